//! Deterministic national-scale benchmark data, in the import formats:
//!
//! ```text
//! cargo run --release --example bench_data -- OUT_DIR HOUSEHOLDS DONATIONS
//! ```
//!
//! writes `OUT_DIR/households.csv` (the default household columns),
//! `OUT_DIR/donations.csv` (the default donation columns: date, ref, amount,
//! donor, note) for the fund `cuu-tro`, `OUT_DIR/funds.jsonl`, and
//! `OUT_DIR/progress.jsonl` (stage changes and disbursements, for `append`).
//! Vietnamese names with diacritics, the 34 provinces of 2025, real commune
//! names (Quảng Trị's from the demo; elsewhere common commune names), amounts
//! with the round-number skew of real statements, dates over a 60-day drive.

#[path = "demo/data.rs"]
mod data;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// The 34 provinces and centrally run cities after the 1 July 2025 merger.
const PROVINCES: [&str; 34] = [
    "Hà Nội",
    "Huế",
    "Quảng Ninh",
    "Cao Bằng",
    "Lạng Sơn",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "TP. Hồ Chí Minh",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Ninh Bình",
    "Quảng Trị",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Đồng Nai",
    "Tây Ninh",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
];

/// Commune names found in many provinces.
const COMMON_COMMUNES: [&str; 24] = [
    "Tân Phú",
    "An Bình",
    "Tân Lập",
    "Hòa Bình",
    "Vĩnh Phúc",
    "Phú Lộc",
    "Thanh Bình",
    "Tân Hiệp",
    "Phước Sơn",
    "Đông Thành",
    "Hưng Đạo",
    "Quang Trung",
    "Tân Thành",
    "Bình Minh",
    "Xuân Sơn",
    "Kim Sơn",
    "Hòa Thuận",
    "Long Hưng",
    "Mỹ Hòa",
    "Định Hòa",
    "Thạch Hà",
    "Nam Phong",
    "Hợp Tiến",
    "Tiên Phước",
];

const NOTES: [&str; 6] = [
    "ung ho dong bao bao lu",
    "ung ho dong bao mien Trung",
    "ung ho xay nha dai doan ket",
    "chung tay vi nguoi ngheo",
    "ung ho khac phuc hau qua bao so 3",
    "",
];

struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn name(rng: &mut Rng) -> String {
    let total: u32 = data::SURNAMES.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    let surname = data::SURNAMES
        .iter()
        .find(|(_, w)| {
            let hit = roll < *w;
            roll = roll.saturating_sub(*w);
            hit
        })
        .map_or("Nguyễn", |(s, _)| s);
    let (middle, given) = if rng.below(2) == 0 {
        (rng.pick(data::MIDDLE_MALE), rng.pick(data::GIVEN_MALE))
    } else {
        (rng.pick(data::MIDDLE_FEMALE), rng.pick(data::GIVEN_FEMALE))
    };
    format!("{surname} {middle} {given}")
}

/// Amounts skewed to round values, as bank statements show.
fn amount(rng: &mut Rng) -> u64 {
    const ROUND: [u64; 10] = [
        50_000, 100_000, 200_000, 200_000, 300_000, 500_000, 500_000, 1_000_000, 2_000_000,
        5_000_000,
    ];
    match rng.below(100) {
        0..=79 => ROUND[rng.below(ROUND.len() as u64) as usize],
        80..=97 => 10_000 * (1 + rng.below(300)),
        _ => 1_000_000 * (10 + rng.below(490)),
    }
}

fn date(day: u64) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2025, 9, 8).expect("valid date");
    (start + chrono::Days::new(day))
        .format("%d/%m/%Y")
        .to_string()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, households, donations] = args.as_slice() else {
        eprintln!("usage: bench_data OUT_DIR HOUSEHOLDS DONATIONS");
        std::process::exit(2);
    };
    let out = PathBuf::from(out);
    let households: u64 = households.parse().expect("HOUSEHOLDS is a number");
    let donations: u64 = donations.parse().expect("DONATIONS is a number");
    std::fs::create_dir_all(&out)?;
    let mut rng = Rng(ChaCha8Rng::seed_from_u64(2025));
    let circumstances: Vec<&str> = data::circumstance_texts().collect();

    std::fs::write(
        out.join("funds.jsonl"),
        concat!(
            r#"{"kind":"fund","id":"cuu-tro","name":"Ủng hộ đồng bào bị thiệt hại do bão lũ","description":"Quỹ cứu trợ toàn quốc (dữ liệu đo hiệu năng)","account":{"bank_bin":"970436","number":"0011001932418","holder":"MAT TRAN TO QUOC VIET NAM"}}"#,
            "\n"
        ),
    )?;

    let mut file = BufWriter::new(std::fs::File::create(out.join("households.csv"))?);
    writeln!(
        file,
        "id,head,province,district,commune,village,circumstances,support,planned,citizen_id,phone"
    )?;
    for index in 0..households {
        let province = PROVINCES[(index % PROVINCES.len() as u64) as usize];
        let commune = if province == "Quảng Trị" {
            data::COMMUNES[rng.below(data::COMMUNES.len() as u64) as usize].name
        } else {
            COMMON_COMMUNES[rng.below(COMMON_COMMUNES.len() as u64) as usize]
        };
        let new_house = rng.below(3) != 0;
        let circumstance = circumstances[rng.below(circumstances.len() as u64) as usize];
        writeln!(
            file,
            "hh-{index:07},{},{province},,xã {commune},thôn {},\"{}\",{},{},{:03}{:09},{}",
            name(&mut rng),
            1 + rng.below(12),
            circumstance.replace('"', "\"\""),
            if new_house { "new" } else { "repair" },
            if new_house { 60_000_000 } else { 30_000_000 },
            1 + index % 96,
            index,
            if rng.below(2) == 0 {
                format!("09{:08}", rng.below(100_000_000))
            } else {
                String::new()
            },
        )?;
    }
    file.flush()?;

    let mut file = BufWriter::new(std::fs::File::create(out.join("donations.csv"))?);
    writeln!(file, "date,ref,amount,donor,note")?;
    let mut line = String::new();
    for index in 0..donations {
        line.clear();
        let donor = if rng.below(10) == 0 {
            String::new()
        } else {
            name(&mut rng)
        };
        let note = rng.pick(&NOTES);
        let _ = writeln!(
            line,
            "{},FT25{index:010},{},{donor},{note}",
            date(index * 60 / donations.max(1)),
            amount(&mut rng)
        );
        file.write_all(line.as_bytes())?;
    }
    file.flush()?;

    // A quarter of the households approved, started and completed, each
    // paid half its planned amount when started (the drive is large enough).
    let mut file = BufWriter::new(std::fs::File::create(out.join("progress.jsonl"))?);
    for index in (0..households).step_by(4) {
        let id = format!("hh-{index:07}");
        for (stage, day) in [
            ("approved", "2025-11-10"),
            ("started", "2025-11-12"),
            ("completed", "2025-11-28"),
        ] {
            writeln!(
                file,
                r#"{{"kind":"progress","household":"{id}","date":"{day}","stage":"{stage}"}}"#
            )?;
        }
        writeln!(
            file,
            r#"{{"kind":"disbursement","fund":"cuu-tro","amount":15000000,"date":"2025-11-12","household":"{id}","purpose":"Tạm ứng xây, sửa nhà"}}"#
        )?;
    }
    file.flush()
}
