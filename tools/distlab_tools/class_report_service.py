"""The class report as a page of the hub (issue 25): a JupyterHub service at
/services/class-report/, listed in the hub's Services menu, that only the teacher can open.

Who may open it is JupyterHub's decision, not ours: the service logs people in through the
hub (OAuth) and lets in only those holding `access:services!service=class-report`. The admin
role holds it, the learners' `user` role does not, so a learner is refused (403) and someone
logged out is sent to the hub's login page.

Each visit to the index builds the report again from the learners' saved notebooks
(class_report.build_report, which reads without following links and writes only into
CLASS_DIR/report, 0700), so the teacher sees the class as it is now. The other pages and
grades.csv are served from that folder by name: only names the report writes, never a path.
Every page carries the report's Content-Security-Policy as a header too (no script runs).

Run by the hub's own unprivileged user (./lab class as root), the service cannot read the
learners' homes (theirs alone): it asks root to build the report through sudo
(DISTLAB_CLASS_SUDO, class_users.as_root: distlab_tools.class_root report), into CLASS_DIR/report, which root
makes readable by the hub's group, and serves it from there.

The learners are those of the teacher's list and the hub's other users (added on the admin
page), asked of the hub's API with the service's own token (role: list:users, read:users:name).

Started by the hub (jupyterhub_config.py), never by hand: it reads JUPYTERHUB_SERVICE_URL,
JUPYTERHUB_SERVICE_PREFIX, JUPYTERHUB_API_URL and its token from the environment the hub gives
it, and DISTLAB_CLASS_DIR, DISTLAB_CLASS_USERS and DISTLAB_CLASS_TEACHER for the class.
"""
import asyncio
import json
import os
import re
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from . import class_report, class_users

PAGE = re.compile(r"(index\.html|grades\.csv|learner-[A-Za-z0-9._-]+\.html|q-[A-Za-z0-9._-]+\.html)")
HEADERS = {
    "Content-Security-Policy": class_report.CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ReportHandler(HubOAuthenticated, web.RequestHandler):
    """One page of the report, to someone the hub says may open this service."""

    def initialize(self, class_dir, users):
        self.class_dir, self.users = class_dir, users
        self.out = os.path.join(class_dir, "report")

    def set_default_headers(self):
        for k, v in HEADERS.items():
            self.set_header(k, v)

    async def hub_learners(self):
        """The hub's users but the teacher: learners the teacher added on the admin page are
        on no list (the service's role: list:users and read:users:name, nothing more)."""
        client = AsyncHTTPClient()
        r = await client.fetch(url_path_join(os.environ["JUPYTERHUB_API_URL"], "users"),
                               headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"})
        teacher = os.environ.get("DISTLAB_CLASS_TEACHER", "teacher")
        return [u["name"] for u in json.loads(r.body) if u["name"] != teacher]

    @web.authenticated
    async def get(self, name):
        name = name or "index.html"
        if not PAGE.fullmatch(name):
            raise web.HTTPError(404)
        if name == "index.html":
            hub_users = await self.hub_learners()
            if os.environ.get("DISTLAB_CLASS_SUDO") == "1":
                # the hub's user cannot read learners' homes: root builds it (class_root report)
                try:
                    await class_users.as_root(self.class_dir, "report", *hub_users)
                except RuntimeError as e:
                    raise web.HTTPError(500, reason=str(e)[-200:].replace("\n", " ")) from None
            else:
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        None, lambda: class_report.build_report(self.class_dir, self.out, self.users, also=hub_users))
                except class_report.ClassError as e:
                    raise web.HTTPError(500, reason=str(e)[:200]) from None
        path = os.path.join(self.out, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise web.HTTPError(404) from None
        with os.fdopen(fd, "rb") as f:
            body = f.read()
        if name.endswith(".csv"):
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", 'attachment; filename="grades.csv"')
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(body)


def app(class_dir, users):
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    return web.Application(
        [
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (prefix + r"([^/]*)", ReportHandler, {"class_dir": class_dir, "users": users}),
        ],
        cookie_secret=os.urandom(32),
    )


def main():
    class_dir = os.environ["DISTLAB_CLASS_DIR"]
    users = os.environ.get("DISTLAB_CLASS_USERS") or None
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])

    async def serve():
        HTTPServer(app(class_dir, users)).listen(url.port, url.hostname)
        await asyncio.Event().wait()  # until the hub stops the service
    asyncio.run(serve())


if __name__ == "__main__":
    main()
