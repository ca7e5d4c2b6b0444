"""Word diffs between letter versions: what changed is marked, nothing else."""

from types import SimpleNamespace

from campaign.services.diffs import Segment, compare_versions, diff_html, word_counts, word_diff


def _ops(segments):
    return [(s.op, s.text) for s in segments]


def test_one_changed_word_marks_only_that_word():
    old = "We ask you to stop selling face surveillance.\nSincerely,\n"
    new = "We ask you to end selling face surveillance.\nSincerely,\n"
    assert _ops(word_diff(old, new)) == [
        ("equal", "We ask you to "),
        ("delete", "stop"),
        ("insert", "end"),
        ("equal", " selling face surveillance.\nSincerely,\n"),
    ]


def test_added_and_removed_paragraphs():
    old = "Dear CEO,\n\nFirst point.\n\nSincerely\n"
    new = "Dear CEO,\n\nA new opening.\n\nFirst point.\n\nSincerely\n"
    segments = word_diff(old, new)
    inserted = [text for op, text in _ops(segments) if op == "insert"]
    assert [t.strip() for t in inserted] == ["A new opening."]
    assert word_counts(segments) == (3, 0)
    removed = word_diff(new, old)
    assert [t.strip() for op, t in _ops(removed) if op == "delete"] == ["A new opening."]
    assert word_counts(removed) == (0, 3)


def test_punctuation_is_its_own_token():
    segments = word_diff("Stop it.", "Stop it!")
    assert _ops(segments) == [("equal", "Stop it"), ("delete", "."), ("insert", "!")]
    assert word_counts(segments) == (0, 0)


def test_identical_texts_have_no_changes():
    segments = word_diff("same\ntext", "same\ntext")
    assert _ops(segments) == [("equal", "same\ntext")]


def test_html_marks_changes_and_escapes_everything():
    html = diff_html(word_diff("<b>old</b> & co", "<b>new</b> & co"))
    assert html == "&lt;b&gt;<del>old</del><ins>new</ins>&lt;/b&gt; &amp; co"
    evil = diff_html([Segment("insert", "<script>alert(1)</script>")])
    assert "<script>" not in evil and "<ins>&lt;script&gt;" in evil


def test_merge_fields_diff_as_text():
    old = "{{ target.salutation }},\n\nWe write to {{ target.name }}."
    new = "{{ target.salutation }},\n\nWe write to {{ target.organisation }}."
    segments = word_diff(old, new)
    assert ("delete", "name") in _ops(segments)
    assert ("insert", "organisation") in _ops(segments)


def test_compare_versions_counts_subject_and_body():
    v1 = SimpleNamespace(number=1, subject="Stop selling", body="Please stop now.")
    v2 = SimpleNamespace(number=2, subject="Stop selling today", body="Please stop.")
    diff = compare_versions(v1, v2)
    assert "<ins> today</ins>" in diff["subject"]
    assert "<del> now</del>" in diff["body"]
    assert (diff["added"], diff["removed"], diff["same"]) == (1, 1, False)
    assert compare_versions(v1, v1)["same"] is True


def test_large_letters_diff_quickly():
    import time

    paragraph = "We, the undersigned organisations, ask you to stop selling face surveillance. "
    old = "\n\n".join(f"{i}. {paragraph * 4}" for i in range(300))
    new = old.replace("\n37. We", "\n37. Today we").replace("\n250. We", "\n250. They")
    started = time.monotonic()
    segments = word_diff(old, new)
    assert time.monotonic() - started < 2
    assert word_counts(segments) == (3, 2)


def test_line_endings_are_not_changes():
    segments = word_diff("Dear all,\n\nStop it.\n", "Dear all,\r\n\r\nEnd it.\r\n")
    assert _ops(segments) == [
        ("equal", "Dear all,\n\n"),
        ("delete", "Stop"),
        ("insert", "End"),
        ("equal", " it.\n"),
    ]
