"""Many customer tenants from one deployment, without a secret (issue #18).

`TenantCredentials` gives each tenant its credential: the multi-tenant app registration
(MULTI_TENANT_APP_ID), authenticated with the managed identity's token as its client assertion.
"""

from shared.tenants.credentials import (
    ASSERTION_SCOPE,
    TenantCredential,
    TenantCredentials,
    admin_consent_url,
    authority_host,
)

__all__ = [
    "ASSERTION_SCOPE",
    "TenantCredential",
    "TenantCredentials",
    "admin_consent_url",
    "authority_host",
]
