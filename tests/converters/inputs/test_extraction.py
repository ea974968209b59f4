"""Free text into a draft: what is found, refanged, deduplicated, rejected, and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.inputs.extraction import DraftOptions, extract_text
from taxii_server.cli import main


def _points(text: str) -> list[tuple[str, str]]:
    extracted = extract_text(text, Path("report.txt"), DraftOptions(published="2024-06-11"))
    return [(p["type"], p["value"]) for p in extracted.imported.document.get("data_points", [])]


def test_defanged_observables_are_refanged_and_found_once() -> None:
    text = (
        "The panel hxxps://panel[.]kit-example[.]top/login moved to kit-example(.)top. "
        "Again: hxxps://panel[.]kit-example[.]top/login and 198.51.100[.]7, 198.51.100.7 "
        "and 2001:db8::7. Mail ops[@]kit-example.top."
    )
    assert _points(text) == [
        ("url", "https://panel.kit-example.top/login"),
        ("domain", "kit-example.top"),
        ("ipv4", "198.51.100.7"),
        ("ipv6", "2001:db8::7"),
        ("email", "ops@kit-example.top"),
    ]


def test_wallets_of_each_chain_are_found_and_broken_ones_rejected() -> None:
    text = (
        "Deposits: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy, "
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297, "
        "0x52908400098527886E0F7030069857D2E4169EE7 and "
        "49HjJN4ZbLjDFqe3Mus7mPZBE6Q27cRGtPLfyuNejGdYZhvke36zj1xGq5kDCbSCXbc5TLTR7vygzVDYTcgFURLaLe4Gdds. "  # noqa: E501
        "A typo: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz."
    )
    extracted = extract_text(text, Path("r.txt"))
    wallets = [(p["currency"], p["value"]) for p in extracted.imported.document["data_points"]]
    assert [c for c, _ in wallets] == ["BTC", "BTC", "ETH", "XMR"]
    (rejected,) = extracted.rejected
    assert (rejected.line, rejected.kind, rejected.value) == (
        1, "BTC address", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
    )  # fmt: skip
    assert "Base58Check checksum" in rejected.reason


def test_usdt_in_the_sentence_names_the_token() -> None:
    assert _points("USDT went to TJRabPrwbZy45sbavfcjinPJC18kjpRTv8.") == [
        ("crypto-wallet", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8")
    ]
    extracted = extract_text("USDT went to TJRabPrwbZy45sbavfcjinPJC18kjpRTv8.", Path("r"))
    assert extracted.imported.document["data_points"][0]["currency"] == "USDT-TRC20"


def test_ibans_phones_and_telegram_handles() -> None:
    text = (
        "Mule account GB82 WEST 1234 5698 7654 32, call +44 20 7946 0958.\n\n"
        "On Telegram: @mule_recruiter and https://t.me/mule_jobs_channel. "
        "On X: @not_telegram_here."
    )
    assert _points(text) == [
        ("bank-account", "GB82WEST12345698765432"),
        ("phone", "+442079460958"),
        ("social-account", "@mule_recruiter"),
        ("social-account", "@mule_jobs_channel"),
    ]


def test_each_point_is_unverified_with_its_sentence() -> None:
    extracted = extract_text("Intro line.\n\nThe C2 is at 203.0.113.9 today.", Path("r.txt"))
    (point,) = extracted.imported.document["data_points"]
    assert point["vetting"] == {"status": "unverified"}
    assert point["x_context"] == "The C2 is at 203.0.113.9 today."
    assert extracted.imported.origins["$.data_points[0]"].path == "r.txt:3"


def test_a_list_gives_each_point_its_own_line() -> None:
    """A pasted list is one "sentence" (no full stops, no blank lines).  Each point's
    context was the whole list: a draft of 2,000 domains wrote 120 MB of YAML and took
    92 s; 8,000 took over five minutes."""
    lines = [f"evil{n}-c2.example.com" for n in range(400)]
    broken = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz"  # a Base58Check typo
    text = "Hosts and a wallet:\n" + "\n".join([*lines, broken])
    extracted = extract_text(text, Path("list.txt"))
    points = extracted.imported.document["data_points"]
    assert [p["value"] for p in points] == lines
    assert [p["x_context"] for p in points] == lines
    origins = extracted.imported.origins
    assert [origins[f"$.data_points[{n}]"].path for n in (0, 399)] == ["list.txt:2", "list.txt:401"]
    assert [(r.line, r.value) for r in extracted.rejected] == [(402, broken)]


def test_the_context_of_a_point_in_a_long_line_is_cut_around_it() -> None:
    """Also: a 20,000-digit hex dump no longer reaches iocsearcher, whose URL and
    e-mail patterns take time quadratic in such a run (10,000 digits: 12 s)."""
    text = "Payload " + "0123456789abcdef" * 1250 + " then it called evil-c2.example.com."
    extracted = extract_text(text, Path("dump.txt"))
    (point,) = extracted.imported.document["data_points"]
    assert point["value"] == "evil-c2.example.com"
    context = point["x_context"]
    assert context.startswith("…") and context.endswith("then it called evil-c2.example.com.")
    assert len(context) <= 301


def test_extract_writes_a_draft_with_rejections_in_its_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "notes.md"
    report.write_text("# Notes\n\nBroken IBAN NL92ABNA0417164300 and host 203.0.113.9.\n")
    draft = tmp_path / "draft.yaml"
    assert main(["extract", str(report), "--published", "2024-06-11", "--author", "Example "
                 "Bank FIU", "--tlp", "green", "-o", str(draft)]) == 0  # fmt: skip
    text = draft.read_text("utf-8")
    assert "#   line 3: IBAN NL92ABNA0417164300: IBAN NL92ABNA0417164300 has wrong" in text
    assert "tlp: green" in text and "name: Example Bank FIU" in text
    assert "rejected: line 3: IBAN" in capsys.readouterr().err
