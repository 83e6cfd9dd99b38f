"""Writes the OpenAPI document (`app.openapi()`) of FastAPI apps as JSON, for `cargo xtask corpus`.

Reads a JSON request on stdin: `{"sdist": TARBALL or null, "unpack": DIR, "out": DIR, "apps": [{"name", "root",
"file"}]}`. The fastapi sdist's `docs_src/` is unpacked into `unpack` first (once); each app is the module `file`
(a path relative to `root`, which is the unpacked sdist's folder when it is "sdist") and its `app` object is exported to
`out/<name>.json`. Prints one line per app that cannot be exported and exits 1 if any."""

import contextlib
import importlib
import io
import json
import pathlib
import sys
import tarfile


def unpack(sdist, into):
    """The sdist's top folder under `into`, with `docs_src/` and `PKG-INFO` (its licence) unpacked."""
    with tarfile.open(sdist) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        folder = pathlib.Path(into) / top
        marker = folder / ".unpacked"
        if not marker.exists():
            wanted = (f"{top}/docs_src/", f"{top}/PKG-INFO")
            members = [m for m in tar.getmembers() if m.name.startswith(wanted)]
            tar.extractall(into, members=members, filter="data")
            marker.write_text(sdist)
    return folder


def export(root, file):
    """The app's document; the module is imported from `root`, as its package layout expects."""
    module = ".".join(pathlib.PurePosixPath(file).with_suffix("").parts)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # Some tutorial apps print while they are set up; the documents are what matters here.
    with contextlib.redirect_stdout(io.StringIO()):
        app = importlib.import_module(module).app
        return app.openapi()


def main():
    request = json.load(sys.stdin)
    sdist_root = unpack(request["sdist"], request["unpack"]) if request["sdist"] else None
    out = pathlib.Path(request["out"])
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for app in request["apps"]:
        root = sdist_root if app["root"] == "sdist" else pathlib.Path(app["root"])
        try:
            document = export(root, app["file"])
        except Exception as error:  # noqa: BLE001 -- every failure is reported with the app it belongs to
            print(f"{app['name']}: cannot export {app['file']}: {type(error).__name__}: {error}", file=sys.stderr)
            failed = True
            continue
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        path = out / f"{app['name']}.json"
        # Written only when it changed, so a rerun leaves the file as it was.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
