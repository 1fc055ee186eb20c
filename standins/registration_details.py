"""A synthetic tenant for Graph v1.0 `userRegistrationDetails`: deterministic, generated lazily.

`SyntheticTenant(users=300_000, seed=7).records(start, stop)` builds just that slice of users,
each from a hash of (seed, index), so a page costs the same whether the tenant has 3 or 300,000
users and nothing is held between pages. The mix is realistic rather than uniform: about 8%
guests (fewer methods, no SSPR), 2% of members admins (some without MFA), Microsoft
Authenticator most common, phones and email next, a minority with passkeys, FIDO2 keys or
Windows Hello; SSPR enabled for most members; MFA "capable" a little below "registered".
About 1.5% of users have a null `userType`, 1.5% of non-admins a null `isAdmin` and 1% of
non-admins a null `methodsRegistered`: the v1.0 metadata lets those three be null
(microsoftgraph/msgraph-metadata, clean_v10_metadata/cleanMetadata.xml), and real tenants send
null `userType`s.

`expected(...)` counts the same users by a separate, plain route (not
shared.sources.v1.tally) so tests can check the client's aggregation against it; with
`population=`, over one population only, as the README defines them: admins `isAdmin` true,
guests `userType` "guest", members `userType` "member" or null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

DOMAIN = "contoso.example"

# (method, chance in 1000 for a member, chance in 1000 for a guest)
_METHODS = (
    ("microsoftAuthenticatorPush", 700, 150),
    ("softwareOneTimePasscode", 350, 60),
    ("mobilePhone", 500, 250),
    ("email", 300, 400),
    ("alternateMobilePhone", 40, 0),
    ("officePhone", 30, 0),
    ("microsoftAuthenticatorPasswordless", 60, 0),
    ("windowsHelloForBusiness", 150, 0),
    ("fido2SecurityKey", 40, 5),
    ("passKeyDeviceBound", 30, 0),
    ("passKeyDeviceBoundAuthenticator", 50, 0),
    ("passKeySynced", 20, 10),
    ("hardwareOneTimePasscode", 10, 0),
    ("temporaryAccessPass", 10, 0),
    ("securityQuestion", 20, 0),
    ("passKeyDeviceBoundWindowsHello", 25, 0),
    ("macOsSecureEnclaveKey", 15, 0),
    ("fido", 8, 0),  # the legacy value
    ("fido2", 8, 0),  # the v1.0 resource page's example spelling
)
_MFA = frozenset(
    {
        "microsoftAuthenticatorPush",
        "softwareOneTimePasscode",
        "mobilePhone",
        "alternateMobilePhone",
        "officePhone",
        "microsoftAuthenticatorPasswordless",
        "windowsHelloForBusiness",
        "fido2SecurityKey",
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeySynced",
        "hardwareOneTimePasscode",
        "passKeyDeviceBoundWindowsHello",
        "macOsSecureEnclaveKey",
        "fido",
        "fido2",
    }
)
_SSPR = frozenset(
    {
        "microsoftAuthenticatorPush",
        "softwareOneTimePasscode",
        "mobilePhone",
        "alternateMobilePhone",
        "officePhone",
        "email",
        "securityQuestion",
    }
)
_PASSWORDLESS = frozenset(
    {
        "microsoftAuthenticatorPasswordless",
        "windowsHelloForBusiness",
        "fido2SecurityKey",
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeySynced",
        "passKeyDeviceBoundWindowsHello",
        "macOsSecureEnclaveKey",
        "fido",
        "fido2",
    }
)
# The stand-in's own list, written independently of shared.sources.v1.tally on purpose: the
# phishing-resistant members of Graph's documented `usageAuthMethod` enum (FIDO2 keys, every
# passkey kind, Windows Hello for Business, the macOS secure-enclave key, legacy `fido`) and
# `fido2`, the v1.0 page's example.
_PHISHING_RESISTANT = frozenset(
    {
        "windowsHelloForBusiness",
        "fido2SecurityKey",
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeySynced",
        "passKeyDeviceBoundWindowsHello",
        "macOsSecureEnclaveKey",
        "fido",
        "fido2",
    }
)
_MASK = (1 << 64) - 1
# Who is in each population, by the record's own fields.
_POPULATIONS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "admins": lambda user: user["isAdmin"] is True,
    "guests": lambda user: user["userType"] == "guest",
    "members": lambda user: user["userType"] in ("member", None),
}


def _mix(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


@dataclass(frozen=True)
class SyntheticTenant:
    users: int
    seed: int = 1

    def user(self, index: int) -> dict[str, Any]:
        """The full record of user `index` (0-based), as Graph v1.0 spells it."""
        h1 = _mix((self.seed << 40) ^ index)
        h2 = _mix(h1)
        h3 = _mix(h2)
        h4 = _mix(h3)
        guest = h1 % 1000 < 80
        admin = not guest and (h1 >> 10) % 1000 < 20
        methods = []
        bits = h2
        for position, (method, member_chance, guest_chance) in enumerate(_METHODS):
            if position < 15:
                roll = ((bits >> (position * 4)) ^ (h3 >> position)) % 1000
            else:  # h2 has no bits left for these: a hash of their own
                roll = _mix(h4 + position) % 1000
            if roll < (guest_chance if guest else member_chance):
                methods.append(method)
        if admin and (h3 >> 20) % 100 < 85:  # most admins were made to register for MFA
            if "microsoftAuthenticatorPush" not in methods:
                methods.append("microsoftAuthenticatorPush")
        elif admin:  # and some never did: at most email and security questions
            methods = [method for method in methods if method not in _MFA]
        null_methods = not admin and (h4 >> 20) % 1000 < 10
        if null_methods:
            methods = []
        mfa_registered = not _MFA.isdisjoint(methods)
        sspr_enabled = not guest and (h3 >> 30) % 100 < 92
        sspr_registered = not _SSPR.isdisjoint(methods)
        user_id = (
            f"{h1 >> 32:08x}-{(h1 >> 16) & 0xFFFF:04x}-4{h2 & 0xFFF:03x}-"
            f"8{(h2 >> 12) & 0xFFF:03x}-{h3 & 0xFFFFFFFFFFFF:012x}"
        )
        upn = (
            f"guest{index:06d}_partner.example#EXT#@{DOMAIN}"
            if guest
            else f"user{index:06d}@{DOMAIN}"
        )
        return {
            "id": user_id,
            "userPrincipalName": upn,
            "userDisplayName": f"{'Guest' if guest else 'User'} {index:06d}",
            "userType": None if h4 % 1000 < 15 else "guest" if guest else "member",
            "isAdmin": None if not admin and (h4 >> 10) % 1000 < 15 else admin,
            "isSsprRegistered": sspr_registered,
            "isSsprEnabled": sspr_enabled,
            "isSsprCapable": sspr_registered and sspr_enabled,
            "isMfaRegistered": mfa_registered,
            "isMfaCapable": mfa_registered and (h3 >> 40) % 100 < 97,
            "isPasswordlessCapable": not _PASSWORDLESS.isdisjoint(methods),
            "isSystemPreferredAuthenticationMethodEnabled": True,
            "lastUpdatedDateTime": "2026-11-01T04:12:33.1234567Z",
            "methodsRegistered": None if null_methods else methods,
            "systemPreferredAuthenticationMethods": ["push"] if mfa_registered else [],
            "userPreferredMethodForSecondaryAuthentication": "push" if mfa_registered else "none",
        }

    def records(
        self, start: int, stop: int, select: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Users start..stop-1, reduced to the `select`ed fields (all of them if None)."""
        stop = min(stop, self.users)
        users = (self.user(index) for index in range(start, stop))
        if select is None:
            return list(users)
        fields = tuple(select)
        return [{name: user[name] for name in fields if name in user} for user in users]

    def expected(
        self,
        *,
        include_guests: bool = True,
        exclude: Iterable[str] = (),
        population: str | None = None,
    ) -> dict[str, int]:
        """What an aggregation should find: `total` plus each metric, counted plainly (over
        one population's users, if given: "admins", "guests" or "members")."""
        excluded = {name.lower() for name in exclude}
        within = _POPULATIONS[population] if population else (lambda user: True)
        counted = [
            user
            for user in (self.user(index) for index in range(self.users))
            if (include_guests or user["userType"] != "guest")
            and user["id"].lower() not in excluded
            and user["userPrincipalName"].lower() not in excluded
            and within(user)
        ]

        def number(condition: Any) -> int:
            return sum(1 for user in counted if condition(user))

        return {
            "total": len(counted),
            "registered": number(lambda u: u["isSsprRegistered"]),
            "enabled": number(lambda u: u["isSsprEnabled"]),
            "capable": number(lambda u: u["isSsprCapable"]),
            "mfaRegistered": number(lambda u: u["isMfaRegistered"]),
            "mfaCapable": number(lambda u: u["isMfaCapable"]),
            "passwordlessCapable": number(lambda u: u["isPasswordlessCapable"]),
            "phishingResistant": number(
                lambda u: not _PHISHING_RESISTANT.isdisjoint(u["methodsRegistered"] or ())
            ),
            "adminsWithoutMfa": number(lambda u: u["isAdmin"] and not u["isMfaRegistered"]),
        }
