"""A throwaway certificate authority, and loopback servers that speak https with it.

Some clients refuse plain http where Microsoft serves https: azure-identity rejects an
`AZURE_AUTHORITY_HOST` that is not https, and msal an authority without it. A stand-in for
such an endpoint needs a certificate its client trusts, without touching the machine's trust
store: `ThrowawayCA` makes a CA and a server certificate for 127.0.0.1 / localhost in a
temporary folder at start; clients trust it through `SSL_CERT_FILE` (OpenSSL, httpx) and
`REQUESTS_CA_BUNDLE` (requests, hence azure-core and msal), set to `ca_file`.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from standins.loopback import LoopbackServer

_LIFETIME = timedelta(days=1)
_Server = TypeVar("_Server", bound="HttpsLoopbackServer")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class ThrowawayCA:
    """A CA certificate and a server certificate it signed, for 127.0.0.1 and localhost.

    EC P-256 keys: quick to make on a busy test machine. `close()` deletes the files.
    """

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="standin-ca-"))
        now = datetime.now(timezone.utc) - timedelta(minutes=5)  # tolerate clock skew
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("Loopback stand-in CA (throwaway)")
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _LIFETIME)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self.ca_file = str(self._dir / "ca.pem")
        self.cert_file = str(self._dir / "server.pem")
        self.key_file = str(self._dir / "server-key.pem")
        Path(self.ca_file).write_bytes(ca_cert.public_bytes(pem))
        Path(self.cert_file).write_bytes(server_cert.public_bytes(pem))
        Path(self.key_file).write_bytes(
            server_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class HttpsLoopbackServer(LoopbackServer):
    """A LoopbackServer on https, with a certificate from its own `ThrowawayCA`.

    The listening socket is wrapped once the server is up (nobody knows the port before
    `start` returns). Handshakes are left to each connection's own thread (OpenSSL performs
    them on the first read), so a client that never speaks cannot stall the accept loop.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ca = ThrowawayCA()

    @property
    def url(self) -> str:
        return "https" + super().url.removeprefix("http")

    @property
    def ca_file(self) -> str:
        return self.ca.ca_file

    def start(self: _Server) -> _Server:
        super().start()
        server = self._server
        assert server is not None
        server.socket = self.ca.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        return self

    def stop(self) -> None:
        super().stop()
        self.ca.close()
