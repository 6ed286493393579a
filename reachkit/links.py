"""nbgitpuller links: hand the notebooks out on a JupyterHub, one click per student.

Opening the link logs the student in, clones the repository into ``~/reachkit`` the first time
(later clicks pull and merge, keeping the student's edits) and opens the notebook::

    HUB/hub/user-redirect/git-pull?repo=REPO&branch=main&targetpath=reachkit
        &urlpath=lab/tree/reachkit/notebooks/03_sharp_minima_lose_stability.ipynb

``targetpath`` fixes the clone folder: without it nbgitpuller names the folder after the last
part of the repository URL (``reachkit.git`` for a ``.git`` URL) and ``urlpath`` misses it.
``app="voila"`` opens the notebook as an app instead (prose and widgets, no code; the hub image
then needs Voila). From a shell::

    python -m reachkit.links --hub https://hub.example.edu --repo https://github.com/reachkit/reachkit --notebook 03
"""

from __future__ import annotations

import argparse
import pathlib
import re
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from . import checks

__all__ = ["hub_link", "launch_links", "notebook_path"]

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
APPS = ("lab", "voila")
GITHUB = "reachkit/reachkit"  # the repository on GitHub that Binder builds and Colab opens
# mybinder.org, and GESIS's own BinderHub for when mybinder.org is full (same repo2docker build)
BINDERS = {"binder": "https://mybinder.org", "binder (GESIS)": "https://notebooks.gesis.org/binder"}


REPO_SCHEMES = ("https", "http", "git", "ssh")  # URLs a student's git clones from; not file:// or options
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\^`{|}]")  # spaces, control characters, what HTML or a shell reads


def _text(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string; got {value!r} ({type(value).__name__})")
    return value.strip()


def _url(name: str, value, schemes) -> tuple:
    """``value`` split (urlsplit) with its scheme in ``schemes`` (any case) and a host; its address
    part free of spaces, quotes and control characters. The parts, scheme lowercased."""
    text = _text(name, value)
    if re.search(r"[\x00-\x1f\x7f]", text):  # urlsplit would drop tabs and newlines silently
        raise ValueError(f"{name} must not contain control characters (newlines, tabs); got {value!r}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        host_ok = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number
        host_ok = False
    if scheme not in schemes or not host_ok or _UNSAFE.search(parts.netloc):
        raise ValueError(f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)} "
                         f"and a host name; got {value!r}")
    return parts._replace(scheme=scheme)


def _hub_address(hub) -> str:
    """The hub's address: http(s), a host, an optional path (percent-encoded), no query or fragment."""
    parts = _url("hub", hub, ("https", "http"))
    if parts.query or parts.fragment or hub.strip().endswith(("?", "#")):
        raise ValueError(f"hub must be the hub's address without a query (?) or fragment (#); got {hub!r}")
    path = quote(parts.path.rstrip("/"), safe="/%~:@!$&()*+,;=")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _repository(repo) -> str:
    """The repository's URL: https, http, git or ssh with a host, no spaces or quotes in it."""
    parts = _url("repo", repo, REPO_SCHEMES)
    if _UNSAFE.search(repo.strip()):
        raise ValueError(f"repo must be a URL without spaces, quotes or control characters; got {repo!r}")
    return urlunsplit(parts)


def _folder(folder) -> str:
    """A folder inside the student's home: plain names joined by /, no '..' or '.', no backslash."""
    text = _text("folder", folder).strip("/")
    names = text.split("/")
    if any(n in ("", ".", "..") for n in names) or _UNSAFE.search(text):
        raise ValueError(f"folder must be a folder inside the home, names joined by / (no '..', '.', spaces "
                         f"or quotes), e.g. 'reachkit' or 'courses/reachkit'; got {folder!r}")
    return text


def _branch(branch) -> str:
    text = _text("branch", branch)
    if text.startswith("-") or ".." in text or _UNSAFE.search(text):
        raise ValueError(f"branch must be a git branch name (not starting with '-', no '..', spaces or "
                         f"quotes); got {branch!r}")
    return text


def notebook_path(notebook, folder: pathlib.Path = NOTEBOOK_DIR) -> str:
    """``"03"`` -> ``"notebooks/03_sharp_minima_lose_stability.ipynb"``, looked up in ``folder``
    (the checkout's notebooks); a full file name is taken as it is."""
    notebook = _text("notebook", notebook)
    if notebook.endswith(".ipynb"):
        name = notebook.removeprefix("notebooks/")
        if "/" in name or name.startswith(".") or _UNSAFE.search(name):
            raise ValueError(f"notebook must be the file name of a notebook in notebooks/ (no folders, no '..', "
                             f"spaces or quotes); got {notebook!r}")
        return "notebooks/" + name
    if not re.fullmatch(r"\d\d", notebook):
        raise ValueError(f"notebook must be a two-digit number like '03' or a file name ending in .ipynb; "
                         f"got {notebook!r}")
    found = sorted(folder.glob(f"{notebook}_*.ipynb"))
    if len(found) != 1:
        have = sorted(p.name[:2] for p in folder.glob("[0-9][0-9]_*.ipynb"))
        raise ValueError(f"notebook {notebook!r} is not one notebook in {folder} (there: {have}); "
                         "pass the file name, e.g. '03_sharp_minima_lose_stability.ipynb'")
    return f"notebooks/{found[0].name}"


def hub_link(hub: str, repo: str, *, branch: str = "main", notebook=None, folder: str = "reachkit",
             app: str = "lab") -> str:
    """The nbgitpuller link that clones ``repo`` at ``branch`` into ``~/folder`` on ``hub`` and
    opens ``notebook`` (``"03"`` or a file name; None: the notebooks folder) in JupyterLab or Voila."""
    hub, repo, branch, folder = _hub_address(hub), _repository(repo), _branch(branch), _folder(folder)
    app = checks.choice("app", app, APPS)
    if app == "voila" and notebook is None:
        raise ValueError("app='voila' needs a notebook (Voila renders one notebook)")
    target = f"{folder}/{notebook_path(notebook)}" if notebook is not None else f"{folder}/notebooks"
    urlpath = f"lab/tree/{target}" if app == "lab" else f"voila/render/{target}"
    query = urlencode({"repo": repo, "branch": branch, "targetpath": folder, "urlpath": urlpath},
                      quote_via=quote, safe="")
    return f"{hub}/hub/user-redirect/git-pull?{query}"


def launch_links(notebook, github: str = GITHUB, branch: str = "main") -> dict[str, str]:
    """Links that open ``notebook`` ("03" or a file name) with no install: on mybinder.org, on GESIS's
    BinderHub (when mybinder.org is full) and in Google Colab (its first cell installs the package)."""
    path, github, branch = notebook_path(notebook), _text("github", github), _text("branch", branch)
    links = {name: f"{hub}/v2/gh/{github}/HEAD?urlpath=lab/tree/{path}" for name, hub in BINDERS.items()}
    return {**links, "colab": f"https://colab.research.google.com/github/{github}/blob/{branch}/{path}"}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(prog="python -m reachkit.links", description=hub_link.__doc__)
    parser.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.edu")
    parser.add_argument("--repo", required=True, help="the repository students clone (an https, http, git or "
                        "ssh URL)")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--notebook", help="two digits ('03') or a notebook file name; default: the folder")
    parser.add_argument("--folder", default="reachkit", help="the clone folder in each home (default reachkit)")
    parser.add_argument("--app", choices=APPS, default="lab", help="open in JupyterLab or as a Voila app")
    args = parser.parse_args(argv)
    try:
        link = hub_link(args.hub, args.repo, branch=args.branch, notebook=args.notebook, folder=args.folder,
                        app=args.app)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    print(link)
    return link


if __name__ == "__main__":
    main()
