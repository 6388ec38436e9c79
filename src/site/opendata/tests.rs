//! The open data's bytes, kind by kind.

use super::feed::*;
use super::sitemap::*;
use super::tables::*;
use super::*;
use crate::ledger::entry::Photo;
use crate::ledger::entry::*;
use crate::money::Dong;
use crate::portal::CitizenIdDigits;
use std::collections::BTreeMap;

fn entry(seq: u64, body: Body) -> Entry {
    Entry {
        seq,
        time: format!("2025-09-12T08:00:{:02}Z", seq % 60),
        signer: "canbo-xa".into(),
        body,
    }
}

fn donation(seq: u64, donor: &str, amount: u64) -> Entry {
    entry(
        seq,
        Body::Donation(Donation {
            fund: "bao-yagi".into(),
            donor: donor.into(),
            amount: Dong::new(amount),
            date: "2025-09-12".into(),
            booking_time: None,
            channel: Channel::Bank,
            account: None,
            reference: Some(format!("FT{seq}")),
            description: None,
            note: None,
        }),
    )
}

fn household(seq: u64) -> Entry {
    entry(
        seq,
        Body::Household(Box::new(Household {
            id: "HG-001".into(),
            head: "Lò Thị Mai".into(),
            province: "Lào Cai".into(),
            district: None,
            commune: "Xã Bảo Hà".into(),
            village: Some("Thôn Làng Nủ".into()),
            circumstances: "Nhà bị lũ quét cuốn trôi".into(),
            support: Support::New,
            planned: Dong::new(60_000_000),
            photo_consent: true,
            citizen_id_hmac: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
                .into(),
            citizen_id_last4: Some("1234".into()),
            phone_hmac: Some(
                "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100".into(),
            ),
        })),
    )
}

fn sample() -> Vec<Entry> {
    vec![
        entry(
            0,
            Body::Key(KeyEntry::Admit {
                name: "quantri".into(),
                unit: "UBND xã Bảo Hà".into(),
                role: Role::Admin,
                vkey: "quantri+12345678+AAAA".into(),
            }),
        ),
        entry(
            1,
            Body::Fund(Box::new(Fund {
                id: "bao-yagi".into(),
                name: "Cứu trợ bão Yagi".into(),
                description: "Hỗ trợ xây lại nhà".into(),
                target: Some(Dong::new(2_000_000_000)),
                account: Some(BankAccount {
                    bank_bin: "970415".into(),
                    number: "0123456789".into(),
                    holder: "UBND XA BAO HA".into(),
                }),
                accounts: Vec::new(),
            })),
        ),
        donation(2, "Nguyễn Văn An, Hà Nội", 500_000),
        donation(3, "Trần \"Bé\" Ba\nDòng hai", 1_250_000),
        donation(4, "=HYPERLINK(\"http://evil.example\",\"x\")", 1),
        donation(5, "-5", 7),
        donation(6, "", 200_000),
        household(7),
        entry(
            8,
            Body::Disbursement(Disbursement {
                fund: "bao-yagi".into(),
                amount: Dong::new(30_000_000),
                date: "2025-09-20".into(),
                household: Some("HG-001".into()),
                payee: None,
                purpose: "Đợt 1".into(),
            }),
        ),
        entry(
            9,
            Body::Progress(Progress {
                household: "HG-001".into(),
                date: "2025-09-21".into(),
                stage: Stage::Started,
                photos: vec![
                    Photo {
                        media: "aa.jpg".into(),
                        caption: Some("Trước".into()),
                    },
                    Photo {
                        media: "bb.jpg".into(),
                        caption: None,
                    },
                ],
                note: None,
            }),
        ),
        entry(
            10,
            Body::Correction(Correction {
                target: 2,
                reason: "Sai số tiền".into(),
                amend: Some(serde_json::from_str(r#"{"amount":600000,"note":"x, y"}"#).unwrap()),
            }),
        ),
        entry(
            11,
            Body::Key(KeyEntry::Revoke {
                name: "canbo-cu".into(),
                reason: Some("+nghỉ việc".into()),
            }),
        ),
    ]
}

fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let body = text.strip_prefix('\u{feff}').expect("starts with a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn every_kind_has_a_csv_and_unknown_kinds_none() {
    let entries = sample();
    for kind in CSV_KINDS {
        let csv = csv_for_kind(kind, &entries, None).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        let (header, rows) = read_csv(&csv);
        assert_eq!(header, csv_header(kind, false).unwrap());
        assert_eq!(&header[..3], ["seq", "time", "signer"]);
        let count = entries.iter().filter(|e| e.body.kind() == kind).count();
        assert_eq!(rows.len(), count, "{kind}");
        assert!(rows.iter().all(|row| row.len() == header.len()));
    }
    assert_eq!(csv_for_kind("checkpoint", &entries, None), None);
    assert_eq!(csv_header("nope", true), None);
    let mut sink = Vec::new();
    assert!(
        write_csv_for_segments("nope", std::slice::from_ref(&entries), None, &mut sink)
            .unwrap()
            .is_none()
    );
    assert!(sink.is_empty());
}

#[test]
fn donation_csv_round_trips_and_neutralises_formulas() {
    let entries = sample();
    let csv = csv_for_kind("donation", entries.iter().rev(), None).unwrap();
    // CRLF records; the only bare LF is inside the quoted donor name.
    assert!(csv.contains("\r\n"));
    assert_eq!(csv.matches('\n').count(), csv.matches("\r\n").count() + 1);
    let (header, rows) = read_csv(&csv);
    assert_eq!(
        header,
        [
            "seq",
            "time",
            "signer",
            "fund",
            "donor",
            "amount",
            "date",
            "booking_time",
            "channel",
            "account",
            "ref",
            "description",
            "note"
        ]
    );
    assert_eq!(rows.len(), 5);
    // Sorted by seq whatever the input order.
    let seqs: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(seqs, ["2", "3", "4", "5", "6"]);
    assert_eq!(rows[0][4], "Nguyễn Văn An, Hà Nội");
    assert_eq!(rows[0][5], "500000");
    assert_eq!(rows[1][4], "Trần \"Bé\" Ba\nDòng hai");
    assert_eq!(rows[1][5], "1250000");
    assert_eq!(rows[2][4], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(rows[3][4], "'-5");
    assert_eq!(rows[3][5], "7");
    assert_eq!(rows[4][4], "");
    assert_eq!(rows[0][8], "bank");
    assert_eq!(rows[0][10], "FT2");
    // Amount cells are plain integers.
    for row in &rows {
        assert!(row[5].bytes().all(|b| b.is_ascii_digit()), "{row:?}");
    }
}

#[test]
fn text_cells_are_neutralised_integer_cells_not() {
    for bad in [
        "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "＝1+1", "＋1", "－1", "＠A1",
    ] {
        assert_eq!(text(bad), format!("'{bad}"));
    }
    // A bidi control is dropped first, so it cannot hide a formula.
    assert_eq!(text("\u{202e}=1+1"), "'=1+1");
    assert_eq!(text("An\u{2067}x\u{2069}"), "Anx");
    for fine in ["", "1", "Nguyễn", " =x", "a=b", "'x"] {
        assert_eq!(text(fine), fine);
    }
    assert_eq!(int(5), "5");
}

#[test]
fn household_csv_never_has_commitments() {
    let entries = sample();
    let digits = CitizenIdDigits::default();
    for show in [false, true] {
        let csv = csv_for_kind("household", &entries, show.then_some(&digits)).unwrap();
        assert!(!csv.contains("hmac"));
        assert!(!csv.contains("a1b2c3d4e5f6"));
        assert!(!csv.contains("ffeeddccbbaa"));
        let (header, rows) = read_csv(&csv);
        assert_eq!(rows.len(), 1);
        assert_eq!(header.contains(&"citizen_id_last4".to_string()), show);
        assert_eq!(csv.contains("1234"), show);
        let row = &rows[0];
        let at = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(at("head"), "Lò Thị Mai");
        assert_eq!(at("district"), "");
        assert_eq!(at("village"), "Thôn Làng Nủ");
        assert_eq!(at("support"), "new");
        assert_eq!(at("planned"), "60000000");
        assert_eq!(at("photo_consent"), "true");
    }
}

#[test]
fn other_kinds_flatten_as_documented() {
    let entries = sample();
    let (header, rows) = read_csv(&csv_for_kind("fund", &entries, None).unwrap());
    assert_eq!(
        header[3..],
        [
            "id",
            "name",
            "description",
            "target",
            "account_bank_bin",
            "account_number",
            "account_holder"
        ]
    );
    assert_eq!(
        rows[0][3..],
        [
            "bao-yagi",
            "Cứu trợ bão Yagi",
            "Hỗ trợ xây lại nhà",
            "2000000000",
            "970415",
            "0123456789",
            "UBND XA BAO HA"
        ]
    );
    let (_, rows) = read_csv(&csv_for_kind("progress", &entries, None).unwrap());
    assert_eq!(
        rows[0][3..],
        ["HG-001", "2025-09-21", "started", "aa.jpg bb.jpg", ""]
    );
    let (_, rows) = read_csv(&csv_for_kind("correction", &entries, None).unwrap());
    assert_eq!(
        rows[0][3..],
        ["2", "Sai số tiền", r#"{"amount":600000,"note":"x, y"}"#]
    );
    let (_, rows) = read_csv(&csv_for_kind("key", &entries, None).unwrap());
    assert_eq!(
        rows[0][3..7],
        ["admit", "quantri", "UBND xã Bảo Hà", "admin"]
    );
    assert_eq!(
        rows[1][3..],
        ["revoke", "canbo-cu", "", "", "", "'+nghỉ việc"]
    );
    let (_, rows) = read_csv(&csv_for_kind("disbursement", &entries, None).unwrap());
    assert_eq!(
        rows[0][3..],
        ["bao-yagi", "30000000", "2025-09-20", "HG-001", "", "Đợt 1"]
    );
}

/// The site's CSVs, a segment's rows formatted beside another's, are the
/// bytes of the rows written one after another: in one segment, or in
/// more segments than cores (some without a row of the kind).
#[test]
fn streaming_csv_matches() {
    let entries = sample();
    for size in [entries.len(), 3, 1] {
        let segments: Vec<Vec<Entry>> = entries.chunks(size).map(<[Entry]>::to_vec).collect();
        for kind in CSV_KINDS {
            let mut bytes = Vec::new();
            (write_csv_for_segments(kind, &segments, None, &mut bytes).unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                csv_for_kind(kind, &entries, None).unwrap(),
                "{kind} in segments of {size}"
            );
        }
    }
}

/// Parses the whole document, failing on any well-formedness error
/// (mismatched tags, bad entity references, bad attributes).
fn assert_well_formed(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut roots = 0;
    // Whether the next text continues the last one (split by a reference).
    let mut continuing = false;
    fn push_text(
        texts: &mut Vec<(String, String)>,
        continuing: &mut bool,
        stack: &[String],
        value: &str,
    ) {
        match texts.last_mut() {
            Some((_, text)) if *continuing => text.push_str(value),
            _ => texts.push((stack.last().unwrap().clone(), value.to_string())),
        }
        *continuing = true;
    }
    loop {
        let event = reader.read_event().expect("well-formed XML");
        if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) {
            continuing = false;
        }
        match event {
            Event::Start(start) => {
                if stack.is_empty() {
                    roots += 1;
                }
                for attribute in start.attributes().with_checks(true) {
                    attribute.unwrap().unescape_value().unwrap();
                }
                stack.push(String::from_utf8(start.name().as_ref().to_vec()).unwrap());
            }
            Event::Empty(empty) => {
                assert!(!stack.is_empty(), "element outside the root");
                for attribute in empty.attributes().with_checks(true) {
                    attribute.unwrap().unescape_value().unwrap();
                }
            }
            Event::End(_) => {
                stack.pop().expect("balanced");
            }
            Event::Text(text) => {
                let value = text.xml_content().expect("valid entities").into_owned();
                if stack.is_empty() {
                    assert!(value.trim().is_empty(), "text outside the root");
                } else {
                    push_text(&mut texts, &mut continuing, &stack, &value);
                }
            }
            Event::GeneralRef(reference) => {
                let name = String::from_utf8(reference.to_vec()).unwrap();
                let value = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("undeclared entity &{other};"),
                };
                push_text(&mut texts, &mut continuing, &stack, value);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert_eq!(roots, 1);
    texts
}

/// Fund id → name from the `fund` entries among `entries`, for
/// `FeedInfo::fund_names` (as the model's `signed_fund_names`).
fn fund_names<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> BTreeMap<String, String> {
    let mut funds: Vec<(u64, &Fund)> = entries
        .into_iter()
        .filter_map(|entry| match &entry.body {
            Body::Fund(fund) => Some((entry.seq, &**fund)),
            _ => None,
        })
        .collect();
    funds.sort_by_key(|(seq, _)| *seq);
    funds
        .into_iter()
        .map(|(_, fund)| (fund.id.clone(), fund.name.clone()))
        .collect()
}

fn feed_info(entries: &[Entry]) -> FeedInfo {
    FeedInfo {
        title: "Minh bạch — Xã Bảo Hà".into(),
        site_url: "https://minhbach.example/".into(),
        feed_url: "https://minhbach.example/du-lieu/atom.xml".into(),
        updated: newest_time(entries).unwrap().to_string(),
        fund_names: fund_names(entries),
        language: "vi".into(),
        words: Words::new(None),
    }
}

fn page(entry: &Entry) -> String {
    format!("https://minhbach.example/so-cai/?a=1&b=2#e{}", entry.seq)
}

#[test]
fn atom_is_well_formed_and_escaped() {
    let mut entries = sample();
    entries.push(donation(
        12,
        "<script>alert(1)</script> & 'x'\u{1}\u{7f}\u{fffe}",
        500_000,
    ));
    let refs: Vec<&Entry> = entries.iter().collect();
    let feed = atom_feed(&refs, &feed_info(&entries), &page);
    let texts = assert_well_formed(&feed);
    assert!(!feed.contains("<script>"));
    assert!(feed.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &apos;x&apos;"));
    assert!(!feed.contains('\u{1}') && !feed.contains('\u{7f}') && !feed.contains('\u{fffe}'));
    assert!(feed.contains("href=\"https://minhbach.example/so-cai/?a=1&amp;b=2#e12\""));
    let titles: Vec<&str> = texts
        .iter()
        .filter(|(element, _)| element == "title")
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(titles[0], "Minh bạch — Xã Bảo Hà");
    // Newest first.
    assert_eq!(
        titles[1],
        "Ủng hộ 500.000 ₫ — <script>alert(1)</script> & 'x' — Quỹ Cứu trợ bão Yagi"
    );
    assert!(titles.contains(&"Ủng hộ 200.000 ₫ — Nhà hảo tâm ẩn danh — Quỹ Cứu trợ bão Yagi"));
    assert!(
        titles.contains(&"Ủng hộ 1.250.000 ₫ — Trần \"Bé\" Ba\nDòng hai — Quỹ Cứu trợ bão Yagi")
    );
    assert!(
        titles.contains(
            &"Hộ gia đình HG-001 — Thôn Làng Nủ, Xã Bảo Hà, Lào Cai — xây mới 60.000.000 ₫"
        )
    );
    assert!(titles.contains(&"Giải ngân 30.000.000 ₫ — hộ HG-001 — Quỹ Cứu trợ bão Yagi"));
    assert!(titles.contains(&"Tiến độ hộ HG-001 — Khởi công"));
    assert!(titles.contains(&"Đính chính mục #2"));
    // The household head's name and commitments stay out of the feed.
    assert!(!feed.contains("Lò Thị Mai"));
    assert!(!feed.contains("a1b2c3d4e5f6"));
    let ids: Vec<&str> = texts
        .iter()
        .filter(|(element, _)| element == "id")
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(ids[0], "https://minhbach.example/du-lieu/atom.xml");
    assert_eq!(ids[1], "https://minhbach.example/du-lieu/atom.xml#entry-12");
    assert_eq!(ids.len(), entries.len() + 1);
    assert!(feed.contains("<updated>2025-09-12T08:00:12Z</updated>"));
    assert!(feed.contains(
        "<summary type=\"text\">Ngày 12/09/2025 · chuyển khoản · mã giao dịch FT12</summary>"
    ));
}

#[test]
fn atom_is_deterministic_and_handles_empty() {
    let entries = sample();
    let refs: Vec<&Entry> = entries.iter().collect();
    let reversed: Vec<&Entry> = entries.iter().rev().collect();
    let info = feed_info(&entries);
    assert_eq!(
        atom_feed(&refs, &info, &page),
        atom_feed(&reversed, &info, &page)
    );
    let empty = atom_feed(&[], &info, &page);
    assert_well_formed(&empty);
    assert!(!empty.contains("<entry>"));
    // Unknown fund ids fall back to the id.
    let lone = donation(1, "A", 1);
    let feed = atom_feed(&[&lone], &FeedInfo::default(), &page);
    assert!(feed.contains("<title>Ủng hộ 1 ₫ — A — Quỹ bao-yagi</title>"));
}

#[test]
fn xml_escape_drops_invalid_characters() {
    assert_eq!(
        xml_escape("a&b<c>d\"e'f\tg\nh\ri\u{0}j\u{1b}k\u{85}l\u{ffff}m"),
        "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\nh\rijklm"
    );
    assert_eq!(xml_escape("Nguyễn ₫ 🏠"), "Nguyễn ₫ 🏠");
}

#[test]
fn vietnamese_formats() {
    assert_eq!(vnd(Dong::new(1_250_000)), "1.250.000 ₫");
    assert_eq!(vn_date("2025-09-12"), "12/09/2025");
    assert_eq!(vn_date("12/09/2025"), "12/09/2025");
    assert_eq!(vn_date("2025-9-1x"), "2025-9-1x");
    let names = BTreeMap::from([("a".to_string(), "Quỹ A".to_string())]);
    assert_eq!(fund_label("a", &names, &Words::new(None)), "Quỹ A");
    assert_eq!(fund_label("b", &names, &Words::new(None)), "Quỹ b");
}

#[test]
fn sitemap_is_sorted_deduplicated_and_escaped() {
    let urls: Vec<String> = [
        "https://minhbach.example/ho-gia-dinh/",
        "https://minhbach.example/",
        "https://minhbach.example/tra-cuu/?q=a&p=2",
        "https://minhbach.example/ho-gia-dinh/",
        "/relative/",
        "https://minhbach.example/xã bảo hà/",
    ]
    .map(String::from)
    .to_vec();
    let xml = sitemap(&urls);
    let texts = assert_well_formed(&xml);
    let locs: Vec<&str> = texts
        .iter()
        .filter(|(element, _)| element == "loc")
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(
        locs,
        [
            "https://minhbach.example/",
            "https://minhbach.example/ho-gia-dinh/",
            "https://minhbach.example/tra-cuu/?q=a&p=2",
            "https://minhbach.example/x%C3%A3%20b%E1%BA%A3o%20h%C3%A0/",
        ]
    );
    assert!(xml.contains("?q=a&amp;p=2"));
    assert!(xml.contains("xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\""));
    assert_well_formed(&sitemap(&[]));
}

#[test]
fn large_sitemaps_split_and_index() {
    let urls: Vec<String> = (0..SITEMAP_MAX_URLS + 1)
        .map(|i| format!("https://minhbach.example/p/{i}/"))
        .collect();
    let chunks = sitemap_chunks(&urls);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].matches("<loc>").count(), SITEMAP_MAX_URLS);
    assert_eq!(chunks[1].matches("<loc>").count(), 1);
    assert_eq!(sitemap_chunks(&[]).len(), 1);
    let index = sitemap_index(&[
        "https://minhbach.example/sitemap-2.xml".into(),
        "https://minhbach.example/sitemap-1.xml".into(),
    ]);
    assert_well_formed(&index);
    assert!(index.find("sitemap-1").unwrap() < index.find("sitemap-2").unwrap());
}

#[test]
fn robots_names_the_sitemap() {
    assert_eq!(
        robots_txt("https://minhbach.example/sitemap.xml"),
        "User-agent: *\nAllow: /\n\nSitemap: https://minhbach.example/sitemap.xml\n"
    );
    assert!(!robots_txt("https://x/\nDisallow: /").contains("\nDisallow"));
}

#[test]
fn the_feed_speaks_its_language_and_reads_entry_text_once() {
    let entries = vec![
        entry(
            1,
            Body::Fund(Box::new(Fund {
                id: "bao-yagi".into(),
                name: "Yagi relief".into(),
                description: String::new(),
                target: None,
                account: None,
                accounts: Vec::new(),
            })),
        ),
        donation(2, "{amount} {fund}", 500_000),
    ];
    let english: BTreeMap<String, String> = crate::site::builtin::TRANSLATIONS
        .iter()
        .find(|(language, _)| *language == "en")
        .map(|(_, text)| toml::from_str(text).unwrap())
        .unwrap();
    let info = FeedInfo {
        language: "en".into(),
        words: Words::new(Some(&english)),
        ..feed_info(&entries)
    };
    let refs: Vec<&Entry> = entries.iter().collect();
    let feed = atom_feed(&refs, &info, &page);
    assert!(feed.contains("xml:lang=\"en\""), "{feed}");
    assert!(
        feed.contains("<title>Fund opened — Yagi relief</title>"),
        "{feed}"
    );
    assert!(
        feed.contains("<title>Donation 500.000 ₫ — {amount} {fund} — Fund Yagi relief</title>"),
        "{feed}"
    );
    // A language whose files hold no feed words falls back to Vietnamese.
    let fallback = FeedInfo {
        words: Words::new(Some(&BTreeMap::new())),
        ..feed_info(&entries)
    };
    let feed = atom_feed(&refs, &fallback, &page);
    assert!(
        feed.contains("<title>Mở quỹ — Yagi relief</title>"),
        "{feed}"
    );
}
