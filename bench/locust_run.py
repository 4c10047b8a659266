"""`python -m bench.locust_run [locust arguments]`: the `locust` command, runnable next to selenium's urllib3.

locust 2.47 imports `create_urllib3_context` from `urllib3.util`, which only urllib3 2 exports; selenium 4.2
(pinned by dash[testing]) needs urllib3 1.26, where the same function lives in `urllib3.util.ssl_`. Both are
the same function: alias it, then start locust as its own command would. gevent patches the standard library
first, exactly as `import locust` does, so nothing imported here holds an unpatched socket or ssl module.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

import urllib3.util  # noqa: E402
import urllib3.util.ssl_  # noqa: E402

if not hasattr(urllib3.util, "create_urllib3_context"):
    urllib3.util.create_urllib3_context = urllib3.util.ssl_.create_urllib3_context

from locust.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
