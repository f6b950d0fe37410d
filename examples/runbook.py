"""A release runbook made of shell steps, with an ops submenu.

    python examples/runbook.py release -y               # version -> build -> checks -> deploy
    python examples/runbook.py run R -y --tag 2.0.0 --env prod
    FAIL_DEPLOY=1 python examples/runbook.py run R -y   # exit 1: the build is rolled back
    python examples/runbook.py ops status               # the ops submenu's commands
    python examples/runbook.py ops run R -y --service db
    python examples/runbook.py run O.S                  # the same command by its path
    python examples/runbook.py --menu                   # O opens the ops menu, B comes back

Every step is a program (`echo`, `sleep`, this Python), so it runs anywhere Python does. A real
runbook would call `git describe --tags`, `make`, `kubectl rollout ...` the same way.
"""

import sys

from falyx import Falyx, chain, group
from falyx.action import ShellAction

PYTHON = sys.executable  # the interpreter running this file: no PATH lookup needed

app = Falyx("🚀 Release runbook", program="runbook")

# The version: a real runbook would ask git (`git describe --tags`); --tag sets it here.
version = ShellAction("version", ["echo", "{tag}"], params={"tag": "1.4.0"})

# The "build": a Python one-liner that receives the version as data (argv), never as code.
build = ShellAction(
    "build",
    [PYTHON, "-c", 'import sys; print("built app-" + sys.argv[1] + ".tar.gz")', "{last_result}"],
    inject_last_result=True,
    rollback=ShellAction("clean", ["echo", "removed app-{last_result}.tar.gz"]),
)

checks = group(
    ShellAction("lint", [PYTHON, "-c", 'print("lint ok")']),
    ShellAction("unit_tests", ["echo", "tests passed"]),
    name="checks",
)

# The "deploy": a pause, then the announcement; FAIL_DEPLOY=1 makes it fail (and roll back).
deploy = ShellAction(
    "deploy",
    'if [ -n "$FAIL_DEPLOY" ]; then echo "deploy refused: FAIL_DEPLOY is set" >&2; exit 1; fi; '
    "sleep {pause} && echo deployed to {env}",
    shell=True,
    params={"env": "staging", "pause": 0.2},
)

app.add_command(key="R", description="Release", action=chain(version, build, checks, deploy,
                name="release"), confirm=True, tags=["release"])

# The ops submenu: an app of its own, mounted under O (`runbook.py ops ...` on the CLI).
ops = Falyx("🔧 Ops", program="ops")
ops.add_command(key="S", description="Status", action=ShellAction(
    "status", "echo web: running && echo db: running", shell=True))
ops.add_command(key="R", description="Restart a service", confirm=True, action=ShellAction(
    "restart", "echo stopping {service} && sleep {pause} && echo started {service}", shell=True,
    params={"service": "web", "pause": 0.1}))
app.add_submenu("O", "Ops", ops)

if __name__ == "__main__":
    app()
