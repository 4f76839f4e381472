"""Local emulator of the Amazon Ads AMC advertiser-audiences API and the Login with Amazon token endpoint.

A strict sandbox: it validates requests the way Amazon does (or stricter, where Amazon's behaviour is
unverified) so client bugs fail in tests. See ``server.Emulator`` for the public API.
"""

from .faults import Faults
from .model import Credentials
from .server import Emulator, RequestRecord

__all__ = ["Credentials", "Emulator", "Faults", "RequestRecord"]
