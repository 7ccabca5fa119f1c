# The local S3 server of the s3-local profile: up before any job, down at the end,
# on success or on error. Other storage kinds need no server.


def _storage(action):
    if STORAGE["kind"] == "s3-local":
        shell(f"mkdir -p {LOGS} && aqbench storage {action} --state {S3_STATE} >> {LOGS}/storage.log 2>&1")


onstart:
    _storage("up")


onsuccess:
    _storage("down")


onerror:
    _storage("down")
