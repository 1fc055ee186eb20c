"""methodsRegistered values as Microsoft documents them, for tests to pin the tally against
(not copied from shared/sources/v1/tally.py: a copy could never fail).

Graph's evolvable enum `usageAuthMethod`, every member of its documented table
(https://learn.microsoft.com/graph/api/resources/usageauthmethod?view=graph-rest-beta), split
by what Microsoft says of each: the phishing-resistant methods are passkeys (FIDO2: a security
key, device-bound, in Microsoft Authenticator or Windows Hello, and synced ones, which
Microsoft says to treat as phishing resistant), Windows Hello for Business and the macOS
Platform SSO secure-enclave key
(https://learn.microsoft.com/entra/identity/authentication/concept-authentication-strengths),
and the legacy `fido`. Passwordless phone sign-in, push, one-time passcodes, SMS, voice, TAP,
app passwords and security questions are not. `fido2` is not an enum member: it is the
spelling the v1.0 userRegistrationDetails page's example uses
(https://learn.microsoft.com/graph/api/resources/userregistrationdetails).
"""

from __future__ import annotations

PHISHING_RESISTANT = frozenset(
    {
        "fido",
        "fido2SecurityKey",
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeyDeviceBoundWindowsHello",
        "passKeySynced",
        "windowsHelloForBusiness",
        "macOsSecureEnclaveKey",
    }
)
NOT_PHISHING_RESISTANT = frozenset(
    {
        "email",
        "mobileSMS",
        "mobileCall",
        "officePhone",
        "securityQuestion",
        "appNotification",
        "appCode",
        "alternateMobileCall",
        "appPassword",
        "unknownFutureValue",
        "externalAuthMethod",
        "hardwareOneTimePasscode",
        "microsoftAuthenticatorPasswordless",
        "temporaryAccessPass",
        "softwareOneTimePasscode",
        "microsoftAuthenticatorPush",
        "mobilePhone",
        "sms",
        "alternateMobilePhone",
        "oneTimePasscode",
        "qrCode",
    }
)
V1_EXAMPLE_SPELLING = "fido2"
