"""A long letter, merged from parts, is tagged like a short one and names each font
subset once."""

import hashlib
import io

from pypdf import PdfReader

from tests.helpers.chunks import cached_chunks, campaign_with, org_names, render_pdf


def _get(value):
    return value.get_object() if hasattr(value, "get_object") else value


def _subset_programs(reader: PdfReader) -> dict[str, set[str]]:
    """Subset tag -> hashes of the font programs embedded under it, over the document."""
    out: dict[str, set[str]] = {}
    stack = [page.get("/Resources") for page in reader.pages]
    while stack:
        resources = _get(stack.pop())
        if not resources:
            continue
        for font in _get(resources.get("/Font", {})).values():
            for f in [_get(font), *map(_get, _get(_get(font).get("/DescendantFonts", [])))]:
                descriptor = _get(f.get("/FontDescriptor"))
                if descriptor is None:
                    continue
                files = [descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3")
                         if k in descriptor]  # fmt: skip
                tag = str(f["/BaseFont"]).lstrip("/").split("+")[0]
                digest = hashlib.sha256(_get(files[0]).get_data()).hexdigest()
                out.setdefault(tag, set()).add(digest)
        for xobject in _get(resources.get("/XObject", {})).values():
            stack.append(_get(xobject).get("/Resources"))
    return out


def _struct_kids(element) -> list:
    kids = _get(element.get("/K", []))
    return [_get(k) for k in (kids if isinstance(kids, list) else [kids])]


def test_merged_long_letter_has_lang_markinfo_and_one_structure_tree(client, app, small_chunks):
    """Tags, language and the marked flag survive the merge; every page's parent-tree key
    is its own and resolves."""
    names = org_names(45)
    _, c = campaign_with(names)
    pdf = render_pdf(c)
    assert len(cached_chunks(small_chunks)) >= 3, "rendered in one pass, not in chunks"
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert str(root["/Lang"]) == "en"
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    tree = _get(root["/StructTreeRoot"])
    [document] = _struct_kids(tree)
    assert document["/S"] == "/Document"
    kinds, todo = [], [document]
    while todo:
        element = todo.pop()
        kinds.append(element.get("/S"))
        todo += [k for k in _struct_kids(element) if hasattr(k, "get") and "/S" in k]
    # The Signatories heading, a list per chunk, an item per organisation.
    assert "/H2" in kinds and kinds.count("/L") >= 3 and kinds.count("/LI") >= 45, kinds

    nums = _get(_get(tree["/ParentTree"])["/Nums"])
    keys = [int(k) for k in nums[::2]]
    pages = [int(p["/StructParents"]) for p in reader.pages if "/StructParents" in p]
    assert len(pages) == len(reader.pages)
    assert len(set(pages)) == len(pages) and set(pages) <= set(keys)
    # Every element that marks content on a page points at a page of this document.
    page_ids = {p.indirect_reference.idnum for p in reader.pages}
    marked = 0
    for value in nums[1::2]:
        for element in _get(value) if isinstance(_get(value), list) else [value]:
            if "/Pg" in _get(element):
                assert _get(element).raw_get("/Pg").idnum in page_ids
                marked += 1
    assert marked >= 45
    # The stamped header and footer are marked as artifacts, outside the tree.
    for page in reader.pages:
        assert b"/Artifact <</Type /Pagination>> BDC" in page.get_contents().get_data()


def test_merged_long_letter_names_each_font_program_with_its_own_subset_tag(
    client,
    app,
    small_chunks,
):
    """Each part subsets the same fonts differently; ISO 32000-1 §9.6.4 forbids one tag
    for two font programs, which the parts' own tags gave."""
    _, c = campaign_with(org_names(45))
    reader = PdfReader(io.BytesIO(render_pdf(c)))
    programs = _subset_programs(reader)
    assert programs
    clashes = {tag: hashes for tag, hashes in programs.items() if len(hashes) > 1}
    assert not clashes, clashes
    assert all(len(tag) == 6 and tag.isupper() and tag.isalpha() for tag in programs)
