#!/usr/bin/env python3
"""check_links.py — keeps the documentation honest as the code moves (ctest docs_links).

    python3 tests/docs/check_links.py ROOT      checks ROOT/README.md and ROOT/docs/*.md
    python3 tests/docs/check_links.py --self-test

For every inline Markdown link [text](target) outside code (fenced blocks, `code spans`):
  - a relative target must exist (file or folder), resolved from the Markdown file's folder;
  - an anchor (#section, alone or after a .md target) must be a heading of that file, spelled
    as GitHub makes heading ids (lowercase, punctuation dropped, spaces to '-');
  - when the link text is one code span naming an identifier (`slm_rmsnorm`, `matmul()`) and
    the target is a file, that identifier must appear in it as a whole word (for `name()`:
    followed by '(' , a call or a definition).
Links with a scheme (https:, mailto:) are not fetched. Every failure is printed as
FILE:LINE: problem, and the exit status is 1 when there is any. Python standard library only.
"""
import os
import re
import sys
import tempfile
from pathlib import Path

LINK = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
FENCE = re.compile(r"^\s*(```|~~~)")
IDENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\(\))?$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fenced = False
    for no, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield no, line


def github_slug(heading):
    """The id GitHub gives a heading: markup dropped, lowercase, punctuation out, ' ' -> '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(path, cache):
    if path not in cache:
        slugs, seen = set(), {}
        for _, line in prose_lines(path.read_text(encoding="utf-8")):
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = github_slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            slugs.add(slug if n == 0 else f"{slug}-{n}")  # GitHub numbers repeated headings
        cache[path] = slugs
    return cache[path]


def links(text):
    """(line number, link text, target) of every inline link outside code."""
    for no, line in prose_lines(text):
        spans = [m.span() for m in CODE_SPAN.finditer(line)]
        for m in LINK.finditer(line):
            if any(a <= m.start() < b for a, b in spans):
                continue  # a '[' inside `code` starts no link
            yield no, m.group(1), m.group(2)


def check_file(md, root, cache):
    problems = []
    text = md.read_text(encoding="utf-8")
    rel = md.relative_to(root)
    for no, label, target in links(text):
        where = f"{rel}:{no}"
        if SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        dest = (md.parent / path_part).resolve() if path_part else md
        if path_part and not dest.exists():
            problems.append(f"{where}: link target '{target}' does not exist")
            continue
        if anchor and dest.suffix == ".md" and dest.is_file():
            if anchor not in anchors_of(dest, cache):
                problems.append(f"{where}: '{target}': no heading with id '#{anchor}' in "
                                f"{os.path.relpath(dest, root)}")
        code = re.fullmatch(r"`([^`]+)`", label.strip())
        ident = IDENT.match(code.group(1).strip()) if code else None
        if ident and dest.is_file():
            name, call = ident.group(1), ident.group(2)
            body = dest.read_text(encoding="utf-8", errors="replace")
            pattern = rf"\b{re.escape(name)}\s*\(" if call else rf"\b{re.escape(name)}\b"
            if not re.search(pattern, body):
                problems.append(f"{where}: [`{code.group(1)}`]: '{name}' does not appear in "
                                f"{os.path.relpath(dest, root)}")
    return problems


def check_tree(root):
    root = Path(root).resolve()
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    cache, problems = {}, []
    for md in files:
        if md.is_file():
            problems += check_file(md, root, cache)
    return files, problems


def self_test():
    """The checker on a made-up tree: each kind of broken link is reported, good ones are not."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "docs").mkdir()
        (root / "src").mkdir()
        (root / "src" / "a.c").write_text("int slm_real_fn(void) { return 0; }\n#define SLM_K 3\n")
        (root / "README.md").write_text("# Top\n\n## Two words\n\n[doc](docs/X.md#part-one)\n")
        (root / "docs" / "X.md").write_text(
            "# X\n\n## Part one\n\n"
            "[`slm_real_fn()`](../src/a.c) [`SLM_K`](../src/a.c) [src](../src/) "
            "[up](../README.md#two-words) [web](https://example.org/nothing)\n"
            "`[not a link](nowhere.c)`\n\n```\n[fenced](nowhere.c)\n```\n"
            "[gone](../src/missing.c)\n"
            "[`slm_gone_fn()`](../src/a.c)\n"
            "[`SLM_GONE`](../src/a.c)\n"
            "[bad anchor](../README.md#three-words)\n"
            "[self](#no-such-part)\n")
        _, problems = check_tree(root)
        want = ["docs/X.md:11: link target '../src/missing.c' does not exist",
                "docs/X.md:12: [`slm_gone_fn()`]: 'slm_gone_fn' does not appear in src/a.c",
                "docs/X.md:13: [`SLM_GONE`]: 'SLM_GONE' does not appear in src/a.c",
                "docs/X.md:14: '../README.md#three-words': no heading with id '#three-words' "
                "in README.md",
                "docs/X.md:15: '#no-such-part': no heading with id '#no-such-part' in docs/X.md"]
        if problems != want:
            print("check_links self-test: expected\n  " + "\n  ".join(want) + "\ngot\n  " +
                  "\n  ".join(problems))
            return 1
    print("check_links self-test: 5 broken links found, good ones passed")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print("usage: check_links.py ROOT | --self-test", file=sys.stderr)
        return 2
    files, problems = check_tree(argv[1])
    for p in problems:
        print(p)
    n_links = sum(len(list(links(f.read_text(encoding="utf-8")))) for f in files if f.is_file())
    print(f"check_links: {len(files)} files, {n_links} links, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
