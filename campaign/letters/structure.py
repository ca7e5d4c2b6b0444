"""What a merged long letter needs to be as good as a one-pass one: tags and clean fonts.

pypdf's append copies pages, not the document's structure tree, so a chunked letter
(chunked.py) lost its tags, /Lang and /MarkInfo; and each part, rendered on its own, names
its font subsets with tags that another part may use for a different subset of the same
font. ISO 32000-1 §9.6.4 asks that a tag name one font program only.

merge_structure builds one tree: a Document element whose children are those of every
part's Document, in page order, with one parent tree (each part's keys shifted past the
previous part's). distinct_subset_tags gives every distinct embedded font program its own
six-letter tag, derived from the program's hash so a re-render writes the same bytes.
"""

import hashlib
import io
import string

import pikepdf
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def _resolved(value):
    return value.get_object() if hasattr(value, "get_object") else value


def mark_document(writer: PdfWriter, lang: str) -> None:
    """Declare the document tagged (/MarkInfo) and its language (/Lang)."""
    root = writer.root_object
    root[NameObject("/Lang")] = TextStringObject(lang or "en")
    root[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})


def merge_structure(writer: PdfWriter, readers: list[PdfReader], first_pages: list[int]) -> bool:
    """One structure tree for `writer` from each appended part's tree; False if a part has none.

    `first_pages[i]` is the index in `writer` of part i's first page. Call after every part
    was appended, so the struct elements' /Pg references resolve to the merged pages.
    """
    document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem")})
    document[NameObject("/S")] = NameObject("/Document")
    document_ref = writer._add_object(document)
    kids, nums, namespaces = ArrayObject(), ArrayObject(), None
    offset = 0
    for reader, first in zip(readers, first_pages, strict=True):
        tree = _resolved(reader.trailer["/Root"].get("/StructTreeRoot"))
        if tree is None:
            return False
        if namespaces is None and "/Namespaces" in tree:
            namespaces = tree["/Namespaces"].clone(writer)
        for top in _resolved(tree.get("/K", ArrayObject())):
            top = _resolved(top)
            # A part's own Document element is dropped: its children join ours.
            children = top.get("/K", []) if top.get("/S") == "/Document" else [top]
            for child in _resolved(children):
                clone = child.clone(writer)
                element = _resolved(clone)
                if isinstance(element, DictionaryObject):
                    element[NameObject("/P")] = document_ref
                kids.append(clone)
        parent_tree = _resolved(tree.get("/ParentTree", DictionaryObject()))
        flat = _resolved(parent_tree.get("/Nums", ArrayObject()))
        highest = -1
        for key, value in zip(flat[::2], flat[1::2], strict=True):
            nums.append(NumberObject(int(key) + offset))
            nums.append(value.clone(writer))
            highest = max(highest, int(key))
        for index, source in enumerate(reader.pages):
            _shift_keys(writer.pages[first + index], source, offset)
        offset += highest + 1
    document[NameObject("/K")] = kids
    tree = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    tree[NameObject("/K")] = ArrayObject([document_ref])
    tree[NameObject("/ParentTree")] = writer._add_object(
        DictionaryObject({NameObject("/Nums"): nums})
    )
    tree[NameObject("/ParentTreeNextKey")] = NumberObject(offset)
    if namespaces is not None:
        tree[NameObject("/Namespaces")] = namespaces
    tree_ref = writer._add_object(tree)
    document[NameObject("/P")] = tree_ref
    writer.root_object[NameObject("/StructTreeRoot")] = tree_ref
    return True


def _shift_keys(page, source, offset: int) -> None:
    """Give a merged page its part's parent-tree key (pypdf's append drops it), and its
    annotations theirs, moved past the earlier parts' keys."""
    if "/StructParents" in source:
        page[NameObject("/StructParents")] = NumberObject(int(source["/StructParents"]) + offset)
    for annotation in _resolved(page.get("/Annots", ArrayObject())):
        annotation = _resolved(annotation)
        if "/StructParent" in annotation:
            value = int(annotation["/StructParent"]) + offset
            annotation[NameObject("/StructParent")] = NumberObject(value)


def packed(pdf: bytes) -> bytes:
    """The PDF rewritten with object streams: a structure tree is tens of thousands of
    small dictionaries (six times the bytes of the 5,000-name letter itself, written one
    object at a time by pypdf), which compress well together."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.save(
            out,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
            deterministic_id=True,
        )
    return out.getvalue()


def _fonts(writer: PdfWriter):
    """Every font dictionary the pages (and their forms) use, each once."""
    seen: set[int] = set()
    stack = [page.get("/Resources") for page in writer.pages]
    while stack:
        resources = _resolved(stack.pop())
        if not isinstance(resources, DictionaryObject):
            continue
        for font in _resolved(resources.get("/Font", DictionaryObject())).values():
            font = _resolved(font)
            if id(font) not in seen:
                seen.add(id(font))
                yield font
                for descendant in _resolved(font.get("/DescendantFonts", ArrayObject())):
                    yield _resolved(descendant)
        for xobject in _resolved(resources.get("/XObject", DictionaryObject())).values():
            stack.append(_resolved(xobject).get("/Resources"))


def _tag(digest: bytes, attempt: int) -> str:
    """Six capital letters from a font program's hash (and a retry count)."""
    value = int.from_bytes(hashlib.sha256(digest + bytes([attempt])).digest()[:8], "big")
    letters = []
    for _ in range(6):
        value, index = divmod(value, 26)
        letters.append(string.ascii_uppercase[index])
    return "".join(letters)


def distinct_subset_tags(writer: PdfWriter) -> None:
    """Give each distinct embedded font program its own subset tag (ISO 32000-1 §9.6.4)."""
    programs: dict[bytes, str] = {}
    used: set[str] = set()
    for font in list(_fonts(writer)):
        descriptor = _resolved(font.get("/FontDescriptor"))
        if descriptor is None:
            continue  # a Type0 font: renamed with its descendant below
        program = next((descriptor[k] for k in _FONT_FILES if k in descriptor), None)
        base = str(font.get("/BaseFont", ""))
        if program is None or "+" not in base:
            continue
        digest = hashlib.sha256(_resolved(program).get_data()).digest()
        if digest not in programs:
            attempt = 0
            while (tag := _tag(digest, attempt)) in used:
                attempt += 1
            programs[digest], _ = tag, used.add(tag)
        _rename(font, descriptor, programs[digest])
    # The Type0 parents take their descendant's new name.
    for font in list(_fonts(writer)):
        descendants = _resolved(font.get("/DescendantFonts"))
        if descendants:
            name = _resolved(descendants[0])["/BaseFont"]
            font[NameObject("/BaseFont")] = NameObject(name)


def _rename(font, descriptor, tag: str) -> None:
    for holder, key in ((font, "/BaseFont"), (descriptor, "/FontName")):
        if key in holder:
            name = str(holder[key]).lstrip("/").split("+", 1)[-1]
            holder[NameObject(key)] = NameObject(f"/{tag}+{name}")
