"""Loaded by every Python process Lithops starts for aqbench (this folder is on their PYTHONPATH).

Lithops' localhost worker opens an S3 connection, then forks the job runner; with a server
that keeps connections alive (SeaweedFS does), parent and child share one socket and
responses get mixed: a request can read another's answer (seen as a NoSuchKey for the
function's own pickle, or records silently lost). Every botocore session created in these
processes therefore asks the server to close the connection after each response, before
Lithops' own code makes its first request.
"""

try:
    import botocore.session as _session
except ImportError:  # not an aqbench worker environment
    _session = None

if _session is not None and not getattr(_session.Session, "_aqbench_close", False):
    _original_init = _session.Session.__init__

    def _init(self, *args, **kwargs):
        _original_init(self, *args, **kwargs)
        self.register("before-send.s3", _close)

    def _close(request, **kwargs):
        request.headers["Connection"] = "close"

    _session.Session.__init__ = _init
    _session.Session._aqbench_close = True


# An emulated Lambda environment's own link (aqbench/emulated/network.py): its S3
# connections leave from its own loopback address, which its shaped classes match on; and,
# for data in another region, each request waits before it is sent (the kernel here cannot
# add latency, so the storage client does).
import os as _os

_address = _os.environ.get("AQBENCH_SOURCE_ADDRESS")
if _address:
    try:
        import urllib3.connection as _connection
    except ImportError:
        _connection = None
    if _connection is not None:
        _original_conn_init = _connection.HTTPConnection.__init__

        def _bound_init(self, *args, **kwargs):
            kwargs.setdefault("source_address", (_address, 0))
            _original_conn_init(self, *args, **kwargs)

        _connection.HTTPConnection.__init__ = _bound_init

_delay = float(_os.environ.get("AQBENCH_REQUEST_DELAY_S") or 0)
if _delay and _session is not None:
    import time as _time

    _closing_init = _session.Session.__init__

    def _delayed_init(self, *args, **kwargs):
        _closing_init(self, *args, **kwargs)
        self.register("before-send.s3", _wait)

    def _wait(request, **kwargs):
        _time.sleep(_delay)

    _session.Session.__init__ = _delayed_init
