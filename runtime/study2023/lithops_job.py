"""The study's warm-up job in small, with the study's Lithops (2.7.1): what Lithops does around each activation.

    AQBENCH_S3_ACCESS_KEY=A AQBENCH_S3_SECRET_KEY=S \\
    python lithops_job.py --folder DIR --keys df0.json df1.json --endpoint http://127.0.0.1:PORT --bucket B [--chunksize 2]

``fexec.map(day_average_map, objs, chunksize=2)`` as the study's cell [21] ran it, on Lithops 2.7.1's
localhost backend with one worker process (one "Lambda", which runs its chunk's activations in
turn) and its MinIO storage backend against the local S3 server: the function and its module are
uploaded, each activation's status and its result (the map's ``to_json()``, pickled) go through
the store. Prints one JSON line per activation from Lithops' own statistics: the worker's time,
the function's, the result's size and upload time; the difference is Lithops' work around the
activation. The objects' bytes come from ``--folder`` (their transfer is a factor of its own).
Python 3.8 syntax: it runs in the study's environment.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--keys", nargs="+", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--chunksize", type=int, default=2)
    parser.add_argument("--preprocess", default="str_accessors")
    args = parser.parse_args(argv)

    os.environ["AQBENCH_INPUT_FOLDER"] = args.folder  # the worker process inherits it
    os.environ["AQBENCH_PREPROCESS"] = args.preprocess
    sys.path.insert(0, HERE)
    import lithops
    from study_code import day_average_map

    config = {
        "lithops": {"backend": "localhost", "storage": "minio", "log_level": "WARNING"},
        "localhost": {"worker_processes": 1},
        "minio": {"endpoint": args.endpoint, "access_key_id": os.environ["AQBENCH_S3_ACCESS_KEY"],
                  "secret_access_key": os.environ["AQBENCH_S3_SECRET_KEY"], "storage_bucket": args.bucket},
    }
    fexec = lithops.FunctionExecutor(config=config)
    futures = fexec.map(day_average_map, list(args.keys), chunksize=args.chunksize)
    fexec.get_result(futures)
    for index, future in enumerate(futures):
        stats = future.stats
        print(json.dumps({
            "activation": index,
            "worker": index // args.chunksize,
            "position": index % args.chunksize,
            "worker_exec_time": stats.get("worker_exec_time"),
            "worker_func_exec_time": stats.get("worker_func_exec_time"),
            "func_result_size": stats.get("func_result_size"),
            "worker_result_upload_time": stats.get("worker_result_upload_time"),
            "lithops": lithops.__version__,
        }), flush=True)
    fexec.clean()
    return 0


if __name__ == "__main__":
    sys.exit(main())
