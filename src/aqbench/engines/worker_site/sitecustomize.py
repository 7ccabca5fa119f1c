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
