"""reachkit.links: the nbgitpuller link a lecturer hands out (the hub test follows one end to end)."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from reachkit.links import hub_link, launch_links, notebook_path

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/owner/reachkit.git"


def _query(link: str) -> dict:
    parts = urlsplit(link)
    q = parse_qs(parts.query, strict_parsing=True)
    assert all(len(v) == 1 for v in q.values()), q
    return {"origin": f"{parts.scheme}://{parts.netloc}", "path": parts.path, **{k: v[0] for k, v in q.items()}}


def test_link_has_the_form_that_opens_the_notebook_in_the_clone_folder():
    nb = sorted(ROOT.glob("notebooks/03_*.ipynb"))[0].name
    q = _query(hub_link("https://hub.example.edu/", REPO, notebook="03"))
    assert q == {"origin": "https://hub.example.edu", "path": "/hub/user-redirect/git-pull", "repo": REPO,
                 "branch": "main", "targetpath": "reachkit", "urlpath": f"lab/tree/reachkit/notebooks/{nb}"}


def test_every_value_is_percent_encoded():
    link = hub_link("http://127.0.0.1:8000", "https://git.example.org/~me/a%20b.git?x=1&y=2", branch="fix/x&y",
                    notebook="00")
    query = urlsplit(link).query
    assert "/" not in query and " " not in query and query.count("&") == 3, query
    q = _query(link)
    assert q["repo"] == "https://git.example.org/~me/a%20b.git?x=1&y=2" and q["branch"] == "fix/x&y"


def test_the_hub_is_parsed_its_path_quoted_and_its_scheme_any_case():
    q = _query(hub_link("HTTPS://hub.example.edu/my hub/\"<x>/", REPO))
    assert q["origin"] == "https://hub.example.edu" and q["path"] == "/my%20hub/%22%3Cx%3E/hub/user-redirect/git-pull"
    for repo in ("git://git.example.org/reachkit.git", "ssh://git@git.example.org/reachkit.git", "HTTP://h.org/r"):
        assert _query(hub_link("https://hub.example.edu", repo))["repo"] == repo.replace("HTTP", "http")


@pytest.mark.parametrize("kwargs, words", [
    (dict(hub="https://hub.example.edu/#x"), "without a query (?) or fragment (#)"),
    (dict(hub="https://hub.example.edu/?next=/x"), "without a query (?) or fragment (#)"),
    (dict(hub="https://hub.example.edu?"), "without a query (?) or fragment (#)"),
    (dict(hub="https://hub.example.edu\n/x"), "hub must not contain control characters"),
    (dict(hub="https://"), "hub must be a URL starting with one of https://, http:// and a host name"),
    (dict(hub="https://hub.example.edu:port"), "and a host name"),
    (dict(hub="ftp://hub.example.edu"), "hub must be a URL starting with one of https://, http://"),
    (dict(repo="javascript:alert(1)"), "repo must be a URL starting with one of https://, http://, git://, ssh://"),
    (dict(repo="file:///etc"), "repo must be a URL starting with one of https://"),
    (dict(repo="--upload-pack=touch /tmp/x"), "repo must be a URL starting with one of https://"),
    (dict(repo="https://h.org/a b"), "repo must be a URL without spaces, quotes"),
    (dict(folder="../../etc"), "folder must be a folder inside the home"),
    (dict(folder="rk/../../etc"), "folder must be a folder inside the home"),
    (dict(branch="--upload-pack=x"), "branch must be a git branch name"),
    (dict(notebook="../../etc/x.ipynb"), "notebook must be the file name of a notebook in notebooks/"),
])
def test_unsafe_addresses_folders_and_branches_are_refused(kwargs, words):
    args = dict(hub="https://hub.example.edu", repo=REPO) | kwargs
    with pytest.raises(ValueError, match=re.escape(words)):
        hub_link(args.pop("hub"), args.pop("repo"), **args)


def test_voila_app_folder_and_whole_folder_links():
    q = _query(hub_link("https://h.org", REPO, notebook="05_beyond_smoothness.ipynb", app="voila", folder="rk"))
    assert (q["targetpath"], q["urlpath"]) == ("rk", "voila/render/rk/notebooks/05_beyond_smoothness.ipynb")
    q = _query(hub_link("https://h.org", REPO, branch="v1"))
    assert (q["branch"], q["urlpath"]) == ("v1", "lab/tree/reachkit/notebooks")


def test_two_digits_find_the_one_notebook_of_the_checkout():
    for path in sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")):
        assert notebook_path(path.name[:2]) == f"notebooks/{path.name}"


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(hub="hub.example.edu"), ValueError, "https://, http://"),
    (dict(notebook="99"), ValueError, "'99' is not one notebook"),
    (dict(notebook="3"), ValueError, "two-digit number"),
    (dict(notebook=3), TypeError, "notebook must be a non-empty string; got 3"),
    (dict(repo=""), TypeError, "repo must be a non-empty string"),
    (dict(app="classic"), ValueError, "app must be one of ('lab', 'voila'); got 'classic'"),
    (dict(app="voila"), ValueError, "needs a notebook"),
])
def test_bad_arguments_are_named(kwargs, error, words):
    args = dict(hub="https://hub.example.edu", repo=REPO) | kwargs
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        hub_link(args.pop("hub"), args.pop("repo"), **args)


def test_command_line_prints_the_link():
    out = subprocess.run([sys.executable, "-m", "reachkit.links", "--hub", "https://hub.example.edu",
                          "--repo", REPO, "--notebook", "03"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == hub_link("https://hub.example.edu", REPO, notebook="03")
    bad = subprocess.run([sys.executable, "-m", "reachkit.links", "--hub", "x", "--repo", REPO],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "https://, http://" in bad.stderr


def test_launch_links_open_the_notebook_on_both_binders_and_in_colab():
    links = launch_links("03")
    path = "notebooks/03_sharp_minima_lose_stability.ipynb"
    assert links == {
        "binder": f"https://mybinder.org/v2/gh/reachkit/reachkit/HEAD?urlpath=lab/tree/{path}",
        "binder (GESIS)": f"https://notebooks.gesis.org/binder/v2/gh/reachkit/reachkit/HEAD?urlpath=lab/tree/{path}",
        "colab": f"https://colab.research.google.com/github/reachkit/reachkit/blob/main/{path}",
    }


def test_readme_and_guide_carry_the_second_binder_and_the_colab_link():
    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "teaching.md").read_text()
    for nb in sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")):
        links = launch_links(nb.name[:2])
        assert all(link in readme for link in links.values()), nb.name
    assert "notebooks.gesis.org/binder/v2/gh/reachkit/reachkit/HEAD" in guide and "colab.research.google.com" in guide
