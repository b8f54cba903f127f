"""A requests transport adapter that connects to an address the policy already checked.

The technique is requests-hardened's (Saleor): keep the URL's host for the Host header, TLS
SNI and certificate check, but hand urllib3 the checked IP, so nothing resolves the name a
second time (no DNS-rebinding window). Unlike requests-hardened, every resolved address is
checked, not only the first, and the test-only allowed networks may use any port.
"""

from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict


class PinnedAddressAdapter(HTTPAdapter):
    def __init__(self, policy, is_https, **kwargs):
        super().__init__(max_retries=0, **kwargs)
        self._policy = policy
        self._is_https = is_https

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        port = host_params["port"] or (443 if self._is_https else 80)
        request.headers = CaseInsensitiveDict(request.headers or {})
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if host_params["port"] is not None:
            host_header += f":{host_params['port']}"
        request.headers["Host"] = host_header
        if self._is_https:
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        # Resolve the name exactly as the URL policy judged it (no trailing dot, lower case).
        address, address_port = self._policy.resolve(hostname.rstrip(".").lower(), port, 443 if self._is_https else 80)[
            0
        ]
        host_params["host"] = f"[{address}]" if address.version == 6 else str(address)
        host_params["port"] = address_port
        return host_params, pool_kwargs

    def get_connection(self, url, proxies=None):  # the deprecated path would skip the pinning
        raise NotImplementedError("use get_connection_with_tls_context")
