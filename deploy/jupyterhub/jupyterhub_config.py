# JupyterHub configuration for running the course for a class on this machine.
#
# `deploy/jupyterhub/start` runs `jupyterhub -f` on this file as root, with
# NN_THEORY_HUB_INSTANCE set to the instance.json that `setup` wrote. Every value that
# differs between installations (folders, users, ports) comes from that file.
#
# Tested with jupyterhub 6.1.1 and configurable-http-proxy 5.3.0 (tests/test_jupyterhub.py).

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (defined by JupyterHub when it loads this file)

instance = json.loads(Path(os.environ["NN_THEORY_HUB_INSTANCE"]).read_text())
state = Path(instance["root"]) / "state"
venv = Path(instance["venv"])
ports = instance["ports"]

# Hub, proxy and user servers listen on 127.0.0.1 only: put a TLS-terminating reverse proxy
# in front of the public port to open the hub to a network.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = ports["public"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = ports["hub"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{ports['proxy_api']}"
c.ConfigurableHTTPProxy.command = [instance["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# The hub's own state stays in the root-only state folder.
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the proxy and every user server

# Log in with the unix password that setup gave each user (kept in state/passwords.csv).
# A real class uses the institution's authenticator instead: see docs/jupyterhub.md.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(instance["students"]) | {instance["instructor"]}
c.Authenticator.admin_users = {instance["instructor"]}

# Each user's server runs as that unix user, from the shared virtual environment.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.env_keep = ["LANG", "LC_ALL"]
c.Spawner.environment = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# A service whose token (root-only, in the state folder) lets the scripts and the tests start
# and stop user servers and call them through the hub's REST API.
token_file = state / "api_token"
if token_file.exists():
    c.JupyterHub.services = [{"name": "course-admin", "api_token": token_file.read_text().strip()}]
    c.JupyterHub.load_roles = [
        {
            "name": "course-admin",
            "scopes": ["admin:users", "admin:servers", "access:servers", "read:users", "tokens"],
            "services": ["course-admin"],
        }
    ]
