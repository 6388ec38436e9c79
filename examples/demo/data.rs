//! Deterministic generator of the demo portal's ledger.
//!
//! It produces the entry bodies that the officers of a provincial Fatherland Front
//! committee would append to the ledger between 1 August and 30 November 2025: the funds,
//! the donations read from bank statements and cash receipts, the households of the
//! "Đại đoàn kết" housing programme, their construction progress, the disbursements, and
//! two corrections. Everything is fictitious but shaped like the real thing: real commune
//! names of Quảng Trị province after the 1 July 2025 merger, round donation amounts,
//! 60 / 30 million đồng per new / repaired house, storm-driven donation peaks.
//!
//! The module is pure: no file I/O, no clock, no hash-map iteration, no floats, and
//! randomness only through `ChaCha8Rng::seed_from_u64` and `next_u64` (never `gen_range`,
//! whose algorithm `rand` may change), so the same seed gives byte-for-byte the same
//! entries on every platform for as long as the ChaCha8 stream of `rand_chacha` 0.3 and the
//! seed expansion of `rand_core` 0.6 stay as specified.
//!
//! Sequence numbers: the caller appends exactly [`SEQ_OFFSET`] entries (the genesis and two
//! `key` entries admitting the officers) before the first batch, so the first entry of the
//! first batch has sequence number 3. `correction` entries rely on that.

#![allow(dead_code)]

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

/// Entries the caller appends before the first batch (genesis + two `key` entries).
pub const SEQ_OFFSET: u64 = 3;

/// Administrator key: signs the first batch, which creates the funds.
pub const ADMIN: &str = "mttq-quangtri";
/// Officer working at the provincial office in Đồng Hới.
pub const OFFICER_DONGHOI: &str = "canbo-donghoi";
/// Officer working from the Vĩnh Linh office.
pub const OFFICER_VINHLINH: &str = "canbo-vinhlinh";

/// Entries one officer appends (and signs) on one day.
pub struct Batch {
    /// Key name of the signer.
    pub signer: &'static str,
    /// Day the batch is appended, `YYYY-MM-DD`.
    pub day: String,
    /// Entry bodies, in append order.
    pub entries: Vec<Value>,
}

// ---------------------------------------------------------------------------------------
// Names and places
// ---------------------------------------------------------------------------------------

/// Surnames with rough relative frequencies.
pub const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 30),
    ("Trần", 10),
    ("Lê", 11),
    ("Phạm", 5),
    ("Hoàng", 4),
    ("Võ", 6),
    ("Phan", 5),
    ("Đặng", 3),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 5),
    ("Ngô", 3),
    ("Dương", 2),
    ("Trương", 3),
    ("Mai", 2),
    ("Đinh", 2),
    ("Cao", 2),
    ("Lương", 1),
    ("Hà", 1),
    ("Thái", 1),
    ("Lý", 1),
    ("Đoàn", 2),
    ("Tạ", 1),
];

pub const MIDDLE_MALE: &[&str] = &[
    "Văn", "Văn", "Văn", "Văn", "Đức", "Hữu", "Minh", "Quang", "Công", "Đình", "Xuân", "Thanh",
    "Ngọc", "Anh", "Trọng", "Viết", "Đăng",
];

pub const MIDDLE_FEMALE: &[&str] = &[
    "Thị", "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hồng", "Mỹ",
    "Phương", "Diệu",
];

pub const GIVEN_MALE: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Hưng", "Khánh", "Lâm", "Long", "Minh",
    "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Sơn", "Tài", "Thành", "Thắng", "Tiến", "Toàn",
    "Trung", "Tuấn", "Vinh", "Việt", "Hòa", "Lợi", "Sáu", "Bảy", "Tám", "Chín", "Cảnh", "Hiếu",
    "Lộc", "Thuận", "Đông", "Kiên", "Quý",
];

pub const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Bích", "Chi", "Dung", "Hà", "Hạnh", "Hằng", "Hoa", "Hồng", "Huệ", "Hương", "Lan",
    "Liên", "Loan", "Mai", "Nga", "Ngọc", "Nhung", "Phương", "Sen", "Tâm", "Thảo", "Thu", "Thủy",
    "Trang", "Tuyết", "Vân", "Xuân", "Yến", "Lài", "Mận", "Cúc", "Lựu", "Gái", "Hiền", "Oanh",
];

/// Given names common among Bru – Vân Kiều and Pa Kô households of the western communes.
pub const GIVEN_ETHNIC: &[&str] = &[
    "Ba", "Bốn", "Năm", "Khăm", "Pả", "Cu", "Xa", "Nhơn", "Tiêm", "Lai", "Ngoan", "Pơi", "Kăn",
    "Chiên", "Thoong", "Lanh", "Đôi", "Ất",
];

/// A commune (xã) of Quảng Trị province after the 1 July 2025 reorganisation.
#[derive(Clone, Copy)]
pub struct Commune {
    /// Name without the "xã" prefix.
    pub name: &'static str,
    /// Pre-1 July 2025 district (huyện) that the commune's territory belonged to.
    pub old_district: &'static str,
    /// 3-digit province code of citizen IDs issued there (044 Quảng Bình, 045 Quảng Trị).
    pub id_code: &'static str,
    /// Mountain commune with ethnic-minority villages (bản).
    pub mountain: bool,
    /// Relative weight when assigning households.
    pub weight: u32,
}

const fn c(name: &'static str, d: &'static str, code: &'static str, m: bool, w: u32) -> Commune {
    Commune {
        name,
        old_district: d,
        id_code: code,
        mountain: m,
        weight: w,
    }
}

/// Communes of the new Quảng Trị province, from the official list of commune-level units
/// (2025) and the merger schemes (which former communes formed each new one). Only rural
/// communes (xã) are used; wards (phường) and the Cồn Cỏ special zone are left out.
pub const COMMUNES: &[Commune] = &[
    // former Quảng Bình province
    c("Dân Hóa", "Minh Hóa", "044", true, 3),
    c("Kim Điền", "Minh Hóa", "044", true, 2),
    c("Kim Phú", "Minh Hóa", "044", true, 2),
    c("Minh Hóa", "Minh Hóa", "044", true, 2),
    c("Tuyên Lâm", "Tuyên Hóa", "044", true, 2),
    c("Tuyên Sơn", "Tuyên Hóa", "044", true, 2),
    c("Đồng Lê", "Tuyên Hóa", "044", false, 2),
    c("Tuyên Phú", "Tuyên Hóa", "044", false, 2),
    c("Tuyên Bình", "Tuyên Hóa", "044", false, 2),
    c("Tuyên Hóa", "Tuyên Hóa", "044", false, 2),
    c("Tân Gianh", "Quảng Trạch", "044", false, 1),
    c("Trung Thuần", "Quảng Trạch", "044", false, 1),
    c("Quảng Trạch", "Quảng Trạch", "044", false, 1),
    c("Hòa Trạch", "Quảng Trạch", "044", false, 1),
    c("Phú Trạch", "Quảng Trạch", "044", false, 1),
    c("Thượng Trạch", "Bố Trạch", "044", true, 3),
    c("Phong Nha", "Bố Trạch", "044", false, 1),
    c("Bắc Trạch", "Bố Trạch", "044", false, 1),
    c("Đông Trạch", "Bố Trạch", "044", false, 1),
    c("Hoàn Lão", "Bố Trạch", "044", false, 1),
    c("Bố Trạch", "Bố Trạch", "044", false, 1),
    c("Nam Trạch", "Bố Trạch", "044", false, 1),
    c("Quảng Ninh", "Quảng Ninh", "044", false, 1),
    c("Ninh Châu", "Quảng Ninh", "044", false, 1),
    c("Trường Ninh", "Quảng Ninh", "044", false, 1),
    c("Trường Sơn", "Quảng Ninh", "044", true, 3),
    c("Lệ Thủy", "Lệ Thủy", "044", false, 1),
    c("Cam Hồng", "Lệ Thủy", "044", false, 2),
    c("Sen Ngư", "Lệ Thủy", "044", false, 1),
    c("Tân Mỹ", "Lệ Thủy", "044", false, 2),
    c("Trường Phú", "Lệ Thủy", "044", false, 1),
    c("Lệ Ninh", "Lệ Thủy", "044", false, 1),
    c("Kim Ngân", "Lệ Thủy", "044", true, 3),
    // former Quảng Trị province
    c("Vĩnh Linh", "Vĩnh Linh", "045", false, 2),
    c("Cửa Tùng", "Vĩnh Linh", "045", false, 1),
    c("Vĩnh Hoàng", "Vĩnh Linh", "045", false, 2),
    c("Vĩnh Thủy", "Vĩnh Linh", "045", false, 1),
    c("Bến Quan", "Vĩnh Linh", "045", false, 2),
    c("Cồn Tiên", "Gio Linh", "045", false, 2),
    c("Cửa Việt", "Gio Linh", "045", false, 1),
    c("Gio Linh", "Gio Linh", "045", false, 1),
    c("Bến Hải", "Gio Linh", "045", false, 1),
    c("Cam Lộ", "Cam Lộ", "045", false, 1),
    c("Hiếu Giang", "Cam Lộ", "045", false, 1),
    c("La Lay", "Đakrông", "045", true, 3),
    c("Tà Rụt", "Đakrông", "045", true, 3),
    c("Đakrông", "Đakrông", "045", true, 3),
    c("Ba Lòng", "Đakrông", "045", true, 2),
    c("Hướng Hiệp", "Đakrông", "045", true, 2),
    c("Hướng Lập", "Hướng Hóa", "045", true, 3),
    c("Hướng Phùng", "Hướng Hóa", "045", true, 3),
    c("Khe Sanh", "Hướng Hóa", "045", true, 1),
    c("Tân Lập", "Hướng Hóa", "045", true, 2),
    c("Lao Bảo", "Hướng Hóa", "045", false, 1),
    c("Lìa", "Hướng Hóa", "045", true, 3),
    c("A Dơi", "Hướng Hóa", "045", true, 3),
    c("Triệu Phong", "Triệu Phong", "045", false, 1),
    c("Ái Tử", "Triệu Phong", "045", false, 1),
    c("Triệu Bình", "Triệu Phong", "045", false, 1),
    c("Triệu Cơ", "Triệu Phong", "045", false, 1),
    c("Nam Cửa Việt", "Triệu Phong", "045", false, 1),
    c("Diên Sanh", "Hải Lăng", "045", false, 1),
    c("Mỹ Thủy", "Hải Lăng", "045", false, 1),
    c("Hải Lăng", "Hải Lăng", "045", false, 1),
    c("Nam Hải Lăng", "Hải Lăng", "045", false, 1),
    c("Vĩnh Định", "Hải Lăng", "045", false, 1),
];

/// Village names for lowland communes (illustrative; "thôn" is prefixed).
pub const VILLAGES_LOWLAND: &[&str] = &[
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "Đông",
    "Tây",
    "Trung",
    "Thượng",
    "Hạ",
    "An Hòa",
    "Tân Định",
    "Phú Hòa",
    "Xuân Lộc",
    "Thạch Bàn",
    "Mỹ Lộc",
    "Tân Sơn",
    "Đông Hòa",
    "Phước Lâm",
    "Bình An",
    "Vĩnh Phước",
    "Hòa Bình",
    "Tân Phú",
];

/// Village names for mountain communes of former Quảng Trị (illustrative; "thôn" is prefixed).
pub const VILLAGES_MOUNTAIN_QT: &[&str] = &[
    "A Ho",
    "A Sóc",
    "Cha Lỳ",
    "Ka Tăng",
    "Pa Tầng",
    "Tà Léc",
    "Ploang",
    "Cù Bai",
    "Xa Bai",
    "Trỉa",
    "Vang",
    "Xi Pa",
];

/// Village names for mountain communes of former Quảng Bình (illustrative; "bản" is prefixed).
pub const VILLAGES_MOUNTAIN_QB: &[&str] = &[
    "Ra Mai",
    "Chuôn",
    "Bạch Đàn",
    "Ho Rum",
    "Cà Roòng",
    "Khe Cát",
    "Cát Sơn",
    "Hà Nôi",
    "Dộ",
    "Sắt",
    "Còi Đá",
];

/// Other provinces' citizen-ID codes (household heads born elsewhere): Hà Tĩnh, Huế, Nghệ An.
const OTHER_ID_CODES: &[&str] = &["042", "046", "040"];

const COMPANY_FORMS: &[&str] = &[
    "Công ty TNHH",
    "Công ty TNHH",
    "Công ty Cổ phần",
    "Công ty TNHH MTV",
    "Doanh nghiệp tư nhân",
];

const COMPANY_NAMES: &[&str] = &[
    "Xây dựng và Thương mại Trường Sơn",
    "Vật liệu xây dựng Nhật Lệ",
    "Vận tải Hoàng Long Miền Trung",
    "Du lịch Phong Nha Xanh",
    "Thủy sản Cửa Việt",
    "Dược phẩm An Khang",
    "Nông sản Hướng Hóa",
    "Cà phê Khe Sanh Xanh",
    "May mặc Sông Gianh",
    "Gạch ngói Đồng Hới",
    "Xăng dầu Bến Hải",
    "Điện máy Minh Phát",
    "Phần mềm Sao Mai",
    "Logistics Lao Bảo",
    "Chế biến gỗ Tân Lập",
    "Thép xây dựng Quảng Ninh",
    "Vật tư nông nghiệp Ái Tử",
    "Đầu tư Hạ tầng Bắc Miền Trung",
    "Thương mại Dịch vụ Kiến Giang",
    "Cơ khí Đông Hà",
    "Khoáng sản Tuyên Hóa",
    "Bê tông Hiếu Giang",
];

const HOMETOWN_GROUPS: &[&str] = &[
    "Hội đồng hương Quảng Trị tại TP. Hồ Chí Minh",
    "Hội đồng hương Quảng Bình tại TP. Hồ Chí Minh",
    "Hội đồng hương Quảng Trị tại Hà Nội",
    "Hội đồng hương Quảng Bình tại Hà Nội",
    "Hội đồng hương Vĩnh Linh tại TP. Hồ Chí Minh",
    "Hội đồng hương Lệ Thủy tại Đà Nẵng",
    "Hội đồng hương Gio Linh tại Đắk Lắk",
    "Hội đồng hương Hải Lăng tại TP. Hồ Chí Minh",
];

const OVERSEAS_GROUPS: &[&str] = &[
    "Cộng đồng người Việt Nam tại Nhật Bản",
    "Hội người Việt Nam tại tỉnh Savannakhet (Lào)",
    "Hội người Việt Nam tại Cộng hòa Séc",
    "Hội Phụ nữ Việt Nam tại Hàn Quốc",
    "Cộng đồng người Việt tại Đài Loan",
    "Hội người Việt Nam tại Ba Lan",
];

const OVERSEAS_PLACES: &[&str] = &[
    "Úc",
    "Hoa Kỳ",
    "Canada",
    "Pháp",
    "Đức",
    "Nhật Bản",
    "Hàn Quốc",
    "Lào",
    "Thái Lan",
];

const SCHOOL_NAMES: &[&str] = &[
    "Trường THCS Nguyễn Trãi",
    "Trường Tiểu học Kim Đồng",
    "Trường THPT Lê Lợi",
    "Trường Mầm non Hoa Sen",
    "Trường THCS Lê Quý Đôn",
    "Trường Tiểu học Nguyễn Văn Trỗi",
    "Trường THPT Phan Bội Châu",
];

const OFFICES: &[&str] = &[
    "Sở Giáo dục và Đào tạo",
    "Sở Tài chính",
    "Sở Y tế",
    "Văn phòng UBND tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Kho bạc Nhà nước khu vực",
    "Bệnh viện Đa khoa tỉnh",
    "Cục Thuế tỉnh",
];

const MARKETS: &[&str] = &[
    "chợ Đông Hà",
    "chợ Đồng Hới",
    "chợ Ba Đồn",
    "chợ Hồ Xá",
    "chợ Kiến Giang",
];

// ---------------------------------------------------------------------------------------
// Funds
// ---------------------------------------------------------------------------------------

const HOUSING: usize = 0;
const RELIEF: usize = 1;
const SCHOLAR: usize = 2;
const TET: usize = 3;

struct FundDef {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    target: Option<u64>,
    /// (bank BIN, account number, holder). Account numbers are fictitious.
    account: Option<(&'static str, &'static str, &'static str)>,
}

const FUNDS: &[FundDef] = &[
    FundDef {
        id: "vi-nguoi-ngheo",
        name: "Quỹ Vì người nghèo tỉnh Quảng Trị",
        description: "Tiếp nhận ủng hộ xây mới, sửa chữa nhà Đại đoàn kết cho hộ nghèo, hộ cận nghèo và hộ có hoàn cảnh khó khăn về nhà ở trên địa bàn tỉnh, theo mức hỗ trợ 60 triệu đồng mỗi nhà xây mới và 30 triệu đồng mỗi nhà sửa chữa. Tiền được chuyển cho hộ gia đình làm hai đợt: tạm ứng khi khởi công và thanh toán phần còn lại khi hoàn thành.",
        target: Some(20_000_000_000),
        account: Some((
            "970436",
            "0000123456789",
            "UY BAN MTTQ VIET NAM TINH QUANG TRI",
        )),
    },
    FundDef {
        id: "cuu-tro-thien-tai-2025",
        name: "Ủng hộ đồng bào bị thiệt hại do thiên tai, bão lũ năm 2025",
        description: "Quỹ Cứu trợ tỉnh Quảng Trị tiếp nhận tiền ủng hộ đồng bào bị thiệt hại do bão số 5, bão số 10 và mưa lũ năm 2025; Ban Vận động cứu trợ phân bổ cho các xã theo mức độ thiệt hại về người, nhà ở và tài sản.",
        target: None,
        account: Some((
            "970415",
            "000011112222",
            "UB MTTQ VN TINH QUANG TRI - QUY CUU TRO",
        )),
    },
    FundDef {
        id: "hoc-bong-nang-buoc-em",
        name: "Học bổng “Nâng bước em đến trường”",
        description: "Trao học bổng cho học sinh có hoàn cảnh đặc biệt khó khăn, học sinh vùng đồng bào dân tộc thiểu số và học sinh có gia đình bị thiệt hại do thiên tai, mỗi suất 2.000.000 đồng.",
        target: Some(1_000_000_000),
        account: Some((
            "970405",
            "0000200012345",
            "UY BAN MTTQ VIET NAM TINH QUANG TRI",
        )),
    },
    FundDef {
        id: "tet-vi-nguoi-ngheo-2026",
        name: "Tết vì người nghèo Xuân Bính Ngọ 2026",
        description: "Tiếp nhận tiền mặt và hiện vật tại trụ sở Ủy ban MTTQ Việt Nam tỉnh và các xã để tặng quà Tết cho hộ nghèo, hộ cận nghèo, gia đình chính sách. Quỹ không nhận chuyển khoản.",
        target: Some(2_000_000_000),
        account: None,
    },
];

// ---------------------------------------------------------------------------------------
// Household circumstances
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Support {
    New,
    Repair,
}

#[derive(Clone, Copy, PartialEq)]
enum Sex {
    Any,
    Male,
    Female,
}

struct Circumstance {
    text: &'static str,
    support: Support,
    sex: Sex,
    min_age: i32,
    /// Only for households registered on or after this date (month, day) of 2025.
    after: Option<(u32, u32)>,
    mountain_only: bool,
}

const fn circ(
    text: &'static str,
    support: Support,
    sex: Sex,
    min_age: i32,
    after: Option<(u32, u32)>,
    mountain_only: bool,
) -> Circumstance {
    Circumstance {
        text,
        support,
        sex,
        min_age,
        after,
        mountain_only,
    }
}

const CIRCUMSTANCES: &[Circumstance] = &[
    circ(
        "Người cao tuổi sống một mình, nhà tạm vách ván, mái tôn đã mục nát, không bảo đảm an toàn trong mùa mưa bão.",
        Support::New,
        Sex::Any,
        66,
        None,
        false,
    ),
    circ(
        "Hộ nghèo, chủ hộ bệnh tật không có khả năng lao động, cả gia đình ở trong căn nhà tạm dột nát.",
        Support::New,
        Sex::Any,
        35,
        None,
        false,
    ),
    circ(
        "Mẹ đơn thân nuôi hai con nhỏ, thu nhập bấp bênh từ làm thuê; nhà tạm lợp tôn, vách ghép bằng gỗ tạp.",
        Support::New,
        Sex::Female,
        25,
        None,
        false,
    ),
    circ(
        "Vợ chồng già yếu, con đi làm ăn xa không có điều kiện giúp đỡ; nhà cấp 4 xây từ những năm 1980 đã nứt tường, lún móng.",
        Support::New,
        Sex::Any,
        62,
        None,
        false,
    ),
    circ(
        "Nhà bị sập hoàn toàn do bão số 10 cuối tháng 9/2025, gia đình đang phải ở nhờ nhà người thân.",
        Support::New,
        Sex::Any,
        30,
        Some((10, 1)),
        false,
    ),
    circ(
        "Hộ đồng bào Vân Kiều, nhà sàn tạm bằng tre nứa đã xuống cấp, không chống chịu được mưa lũ.",
        Support::New,
        Sex::Any,
        25,
        None,
        true,
    ),
    circ(
        "Chủ hộ khuyết tật vận động, vợ làm thuê nuôi ba con ăn học; nhà tạm chật chội, dột nát.",
        Support::New,
        Sex::Male,
        30,
        None,
        false,
    ),
    circ(
        "Hộ cận nghèo ở vùng thường xuyên ngập lụt, nền nhà thấp, tường đã sạt lở nhiều chỗ.",
        Support::New,
        Sex::Any,
        30,
        None,
        false,
    ),
    circ(
        "Góa phụ nuôi con khuyết tật trí tuệ; căn nhà tạm dựng trên đất cha mẹ để lại đã dột nát.",
        Support::New,
        Sex::Female,
        45,
        None,
        false,
    ),
    circ(
        "Gia đình chính sách (con của liệt sĩ), vợ chồng già yếu sống trong căn nhà tạm đã xuống cấp nghiêm trọng.",
        Support::New,
        Sex::Any,
        60,
        None,
        false,
    ),
    circ(
        "Hộ đồng bào dân tộc thiểu số đông con, thu nhập chủ yếu từ làm nương rẫy; nhà gỗ tạm đã mục, mái lá dột.",
        Support::New,
        Sex::Any,
        28,
        None,
        true,
    ),
    circ(
        "Nhà bị lũ cuốn trôi một phần sau bão số 5, gia đình dựng lều tạm trên nền nhà cũ.",
        Support::New,
        Sex::Any,
        30,
        Some((8, 28)),
        false,
    ),
    circ(
        "Người cao tuổi sống một mình, mái nhà dột, tường nứt, cửa hư hỏng cần sửa chữa trước mùa mưa.",
        Support::Repair,
        Sex::Any,
        66,
        None,
        false,
    ),
    circ(
        "Nhà bị tốc mái, hư hỏng tường sau bão số 5, gia đình chưa có điều kiện sửa chữa.",
        Support::Repair,
        Sex::Any,
        30,
        Some((8, 28)),
        false,
    ),
    circ(
        "Nhà bị tốc mái, sập một phần tường bếp do bão số 10, gia đình thuộc hộ cận nghèo.",
        Support::Repair,
        Sex::Any,
        30,
        Some((10, 1)),
        false,
    ),
    circ(
        "Chủ hộ là nạn nhân chất độc da cam, sức khỏe yếu; nhà cấp 4 xuống cấp, mái ngói vỡ nhiều chỗ.",
        Support::Repair,
        Sex::Any,
        50,
        None,
        false,
    ),
    circ(
        "Hộ nghèo có người mắc bệnh hiểm nghèo phải điều trị dài ngày; nhà xây đã lâu, mái tôn thủng, nền bong tróc.",
        Support::Repair,
        Sex::Any,
        35,
        None,
        false,
    ),
    circ(
        "Hộ cận nghèo làm nghề đánh bắt ven bờ, thu nhập thấp; nhà bị nhiễm mặn, tường bong tróc, mái dột.",
        Support::Repair,
        Sex::Any,
        30,
        None,
        false,
    ),
    circ(
        "Chủ hộ khuyết tật sống cùng mẹ già; nhà cấp 4 khung còn chắc nhưng mái và tường cần gia cố.",
        Support::Repair,
        Sex::Any,
        30,
        None,
        false,
    ),
    circ(
        "Hộ đồng bào Bru – Vân Kiều, nhà gỗ có khung còn tốt nhưng mái tôn đã thủng, vách hở, cần thay mái và vách.",
        Support::Repair,
        Sex::Any,
        25,
        None,
        true,
    ),
];

const NOTES_APPROVED: &[&str] = &[
    "Có tên trong danh sách UBND xã đề nghị, đã thẩm định thực tế",
    "Ban Chỉ đạo xã đã rà soát, bình xét công khai tại thôn",
    "Chuyển từ danh sách rà soát trước ngày 1/7/2025",
];
const NOTES_STARTED: &[&str] = &[
    "Khởi công; bà con trong thôn và đoàn viên thanh niên hỗ trợ ngày công",
    "Đã đào móng, tập kết vật liệu",
    "Khởi công, Bộ đội Biên phòng hỗ trợ vận chuyển vật liệu",
    "Tháo dỡ nhà cũ, bắt đầu thi công",
];
const NOTES_COMPLETED: &[&str] = &[
    "Hoàn thành, đã nghiệm thu",
    "Đã lợp mái, lát nền, lắp cửa; nghiệm thu đạt yêu cầu",
    "Hoàn thành đúng tiến độ",
];
const NOTES_HANDED: &[&str] = &[
    "Bàn giao, gia đình đã vào ở",
    "Trao quyết định hỗ trợ và bàn giao nhà cho gia đình",
];

// ---------------------------------------------------------------------------------------
// Randomness (stable: only next_u64 is used)
// ---------------------------------------------------------------------------------------

struct Rng(ChaCha8Rng);

impl Rng {
    /// Uniform in `0..n` (rejection sampling, no bias).
    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        let limit = u64::MAX - u64::MAX % n;
        loop {
            let x = self.0.next_u64();
            if x < limit {
                return x % n;
            }
        }
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u64 = xs.iter().map(|x| x.1 as u64).sum();
        let mut r = self.below(total);
        for x in xs {
            if r < x.1 as u64 {
                return x.0;
            }
            r -= x.1 as u64;
        }
        unreachable!()
    }
    /// `k` distinct elements of `pool`, in drawing order.
    fn distinct(&mut self, pool: &[usize], k: usize) -> Vec<usize> {
        let mut rest = pool.to_vec();
        (0..k.min(rest.len()))
            .map(|_| rest.remove(self.below(rest.len() as u64) as usize))
            .collect()
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).expect("valid date")
}

fn ymd(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// `1250000` → `1.250.000` (Vietnamese thousands separator).
fn vnd(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// Strips Vietnamese diacritics, as bank transfer descriptions do.
fn fold(s: &str) -> String {
    const GROUPS: &[(&str, char)] = &[
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ìíịỉĩ", 'i'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ỳýỵỷỹ", 'y'),
        ("đ", 'd'),
        ("ÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴ", 'A'),
        ("ÈÉẸẺẼÊỀẾỆỂỄ", 'E'),
        ("ÌÍỊỈĨ", 'I'),
        ("ÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠ", 'O'),
        ("ÙÚỤỦŨƯỪỨỰỬỮ", 'U'),
        ("ỲÝỴỶỸ", 'Y'),
        ("Đ", 'D'),
    ];
    s.chars()
        .map(|ch| {
            GROUPS
                .iter()
                .find(|(set, _)| set.contains(ch))
                .map(|&(_, base)| base)
                .unwrap_or(ch)
        })
        .collect()
}

fn obj(kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("kind".into(), Value::from(kind));
    m
}

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.into(), v.into());
}

/// Working days (Mon–Fri, minus the National Day holiday 1–2 September 2025).
fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && d != date(9, 1) && d != date(9, 2)
}

// ---------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Flag {
    None,
    /// Cash receipt entered twice; the second copy is voided by a correction.
    Duplicate,
    /// Amount entered ten times too high; amended by a correction.
    Typo,
}

struct Donation {
    fund: usize,
    date: NaiveDate,
    donor: String,
    amount: u64,
    channel: &'static str,
    reference: Option<String>,
    note: Option<String>,
    flag: Flag,
}

impl Donation {
    fn to_value(&self, amount: u64) -> Value {
        let mut m = obj("donation");
        put(&mut m, "fund", FUNDS[self.fund].id);
        put(&mut m, "donor", self.donor.clone());
        put(&mut m, "amount", amount);
        put(&mut m, "date", ymd(self.date));
        put(&mut m, "channel", self.channel);
        if let Some(r) = &self.reference {
            put(&mut m, "ref", r.clone());
        }
        if let Some(n) = &self.note {
            put(&mut m, "note", n.clone());
        }
        Value::Object(m)
    }
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Stage {
    Approved,
    Started,
    Completed,
    HandedOver,
}

struct Household {
    id: String,
    commune: usize,
    support: Support,
    planned: u64,
    /// Index of the batch that registers it.
    reg_batch: usize,
    stage: Stage,
    /// Earliest day of the next stage.
    ready: NaiveDate,
    advance: u64,
    entry: Value,
}

/// A disbursement to a commune (relief, scholarships), done when the fund can pay.
struct Payout {
    not_before: NaiveDate,
    fund: usize,
    commune: usize,
    units: u64,
    rate: u64,
    purpose: fn(u64, u64) -> String,
}

struct Gen {
    rng: Rng,
    /// Appended entries so far (to compute sequence numbers).
    count: u64,
    received: [u64; 4],
    disbursed: [u64; 4],
    /// Housing money promised to started houses but not yet paid (second instalments).
    committed: u64,
    refs: BTreeSet<String>,
    citizen_ids: BTreeSet<String>,
}

impl Gen {
    fn balance(&self, fund: usize) -> u64 {
        self.received[fund] - self.disbursed[fund]
    }

    fn person(&mut self, sex: Sex, ethnic: bool) -> (String, bool) {
        let female = match sex {
            Sex::Male => false,
            Sex::Female => true,
            Sex::Any => self.rng.chance(450),
        };
        if ethnic && self.rng.chance(650) {
            let surname = *self
                .rng
                .pick(&["Hồ", "Hồ", "Hồ", "Hồ", "Cao", "Đinh", "Lê", "Hồ"]);
            let middle = if female { "Thị" } else { "Văn" };
            let given = *self.rng.pick(GIVEN_ETHNIC);
            return (format!("{surname} {middle} {given}"), female);
        }
        let surname = self.rng.weighted(SURNAMES);
        let (middle, given) = if female {
            (*self.rng.pick(MIDDLE_FEMALE), *self.rng.pick(GIVEN_FEMALE))
        } else {
            (*self.rng.pick(MIDDLE_MALE), *self.rng.pick(GIVEN_MALE))
        };
        // Old-fashioned rural given names go with the plain middle names.
        let middle = match given {
            "Gái" | "Lài" | "Mận" | "Lựu" | "Sen" | "Cúc" => "Thị",
            "Sáu" | "Bảy" | "Tám" | "Chín" => "Văn",
            _ => middle,
        };
        // Some women's names have two middle names: "Nguyễn Thị Thu Hà".
        if female && middle == "Thị" && self.rng.chance(150) {
            let second = *self.rng.pick(MIDDLE_FEMALE);
            let plain = matches!(given, "Gái" | "Lài" | "Mận" | "Lựu" | "Sen" | "Cúc");
            if !plain && second != middle && second != given {
                return (format!("{surname} {middle} {second} {given}"), female);
            }
        }
        if middle == given {
            return (format!("{surname} {given}"), female);
        }
        (format!("{surname} {middle} {given}"), female)
    }

    fn bank_ref(&mut self, d: NaiveDate) -> String {
        loop {
            let r = format!("FT25{:03}{}", d.ordinal(), self.rng.digits(7));
            if self.refs.insert(r.clone()) {
                return r;
            }
        }
    }

    fn citizen_id(&mut self, code: &str, female: bool, birth_year: i32) -> String {
        // Century/sex digit: 0 = man born 1900–1999, 1 = woman, 2 / 3 = born 2000–2099.
        let century = if birth_year >= 2000 { 2 } else { 0 } + u32::from(female);
        loop {
            let id = format!(
                "{code}{century}{:02}{}",
                birth_year % 100,
                self.rng.digits(6)
            );
            if self.citizen_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Donations
    // -----------------------------------------------------------------------------------

    /// Expected donations per day for a fund, in thousandths.
    fn expected_milli(fund: usize, d: NaiveDate) -> u64 {
        let t = |from: NaiveDate| (d - from).num_days();
        let mut e: i64 = match fund {
            HOUSING => {
                // "Tháng cao điểm Vì người nghèo" runs from 17 October to 18 November.
                if d >= date(10, 17) && d <= date(11, 18) {
                    19_000
                } else {
                    9_000
                }
            }
            RELIEF => {
                let mut e = if d < date(10, 1) { 2_000 } else { 4_500 };
                // Storm No. 5 (Kajiki) made landfall on 25 August 2025.
                let s5 = t(date(8, 25));
                if (0..21).contains(&s5) {
                    e += 45_000 * (21 - s5) / 21;
                }
                // Storm No. 10 (Bualoi) hit the province on 28–29 September 2025.
                let s10 = t(date(9, 29));
                if (0..30).contains(&s10) {
                    e += 65_000 * (30 - s10) / 30;
                }
                e
            }
            SCHOLAR => {
                if d >= date(8, 10) && d <= date(9, 10) {
                    7_000
                } else {
                    1_200
                }
            }
            _ => {
                if d >= date(11, 1) {
                    5_000
                } else if d >= date(10, 15) {
                    1_500
                } else {
                    0
                }
            }
        };
        if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            e = e * 6 / 10;
        }
        e as u64
    }

    fn person_amount(&mut self) -> u64 {
        self.rng.weighted(&[
            (50_000, 8),
            (68_000, 1),
            (100_000, 20),
            (150_000, 3),
            (200_000, 18),
            (250_000, 2),
            (300_000, 8),
            (368_000, 1),
            (500_000, 18),
            (1_000_000, 12),
            (1_500_000, 2),
            (2_000_000, 6),
            (3_000_000, 1),
            (5_000_000, 2),
            (10_000_000, 1),
        ])
    }

    fn donation(&mut self, fund: usize, d: NaiveDate) -> Donation {
        let channel: &'static str = match fund {
            HOUSING => self.rng.weighted(&[("bank", 86), ("cash", 14)]),
            RELIEF => self
                .rng
                .weighted(&[("bank", 84), ("cash", 13), ("in_kind", 3)]),
            SCHOLAR => self.rng.weighted(&[("bank", 80), ("cash", 20)]),
            _ => self.rng.weighted(&[("cash", 80), ("in_kind", 20)]),
        };
        // Who gives.
        #[derive(Clone, Copy, PartialEq)]
        enum Who {
            Anonymous,
            Person,
            Overseas,
            Collective,
            Company,
            Group,
        }
        let who = if channel == "in_kind" {
            self.rng
                .weighted(&[(Who::Collective, 5), (Who::Company, 4), (Who::Person, 2)])
        } else {
            self.rng.weighted(&[
                (Who::Anonymous, 100),
                (Who::Person, 780),
                (Who::Overseas, 25),
                (Who::Collective, 55),
                (Who::Company, 28),
                (Who::Group, 12),
            ])
        };
        let donor = match who {
            Who::Anonymous => String::new(),
            Who::Person => self.person(Sex::Any, false).0,
            Who::Overseas => {
                let (name, _) = self.person(Sex::Any, false);
                format!("{name} (kiều bào tại {})", self.rng.pick(OVERSEAS_PLACES))
            }
            Who::Collective => match self.rng.below(5) {
                0 => format!(
                    "Tập thể cán bộ, giáo viên {} xã {}",
                    self.rng.pick(SCHOOL_NAMES),
                    self.rng.pick(COMMUNES).name
                ),
                1 => format!(
                    "Cán bộ, công chức, người lao động {}",
                    self.rng.pick(OFFICES)
                ),
                2 => format!("Hội Cựu chiến binh xã {}", self.rng.pick(COMMUNES).name),
                3 => format!("Các tiểu thương {}", self.rng.pick(MARKETS)),
                _ => format!("Hội Liên hiệp Phụ nữ xã {}", self.rng.pick(COMMUNES).name),
            },
            Who::Company => format!(
                "{} {}",
                self.rng.pick(COMPANY_FORMS),
                self.rng.pick(COMPANY_NAMES)
            ),
            Who::Group => {
                if self.rng.chance(600) {
                    (*self.rng.pick(HOMETOWN_GROUPS)).to_string()
                } else {
                    (*self.rng.pick(OVERSEAS_GROUPS)).to_string()
                }
            }
        };
        let mut note = None;
        let amount = if channel == "in_kind" {
            let (a, n) = self.in_kind(fund);
            note = Some(n);
            a
        } else {
            match who {
                Who::Anonymous | Who::Person => self.person_amount(),
                Who::Overseas => *self
                    .rng
                    .pick(&[1_000_000, 2_000_000, 3_000_000, 5_000_000, 10_000_000]),
                Who::Collective => self.rng.weighted(&[
                    (1_000_000, 2),
                    (1_500_000, 1),
                    (2_000_000, 4),
                    (2_650_000, 1),
                    (3_000_000, 4),
                    (5_000_000, 5),
                    (7_200_000, 1),
                    (10_000_000, 3),
                    (20_000_000, 1),
                ]),
                Who::Company => self.rng.weighted(&[
                    (10_000_000, 16),
                    (20_000_000, 14),
                    (30_000_000, 8),
                    (50_000_000, 14),
                    (100_000_000, 10),
                    (200_000_000, 4),
                    (300_000_000, 3),
                    (500_000_000, 2),
                ]),
                Who::Group => self.rng.weighted(&[
                    (20_000_000, 3),
                    (50_000_000, 4),
                    (100_000_000, 3),
                    (150_000_000, 1),
                    (200_000_000, 1),
                ]),
            }
        };
        let reference = (channel == "bank").then(|| self.bank_ref(d));
        if channel == "bank" && self.rng.chance(550) {
            note = Some(self.transfer_note(fund, d, &donor, who == Who::Person));
        } else if channel == "cash" && self.rng.chance(250) {
            note = Some(if self.rng.chance(500) {
                "Nộp tiền mặt tại trụ sở Ủy ban MTTQ Việt Nam tỉnh".to_string()
            } else {
                format!(
                    "Nộp tiền mặt qua Ủy ban MTTQ Việt Nam xã {}",
                    self.rng.pick(COMMUNES).name
                )
            });
        }
        Donation {
            fund,
            date: d,
            donor,
            amount,
            channel,
            reference,
            note,
            flag: Flag::None,
        }
    }

    fn in_kind(&mut self, fund: usize) -> (u64, String) {
        if fund == TET {
            let n = self.rng.range(1, 12) as u64 * 5;
            return (
                n * 500_000,
                format!(
                    "{n} suất quà Tết (gạo, dầu ăn, bánh kẹo), trị giá quy đổi 500.000 đồng/suất"
                ),
            );
        }
        match self.rng.below(3) {
            0 => {
                let a = self.rng.range(5, 50) as u64 * 10;
                let b = self.rng.range(5, 30) as u64 * 10;
                (
                    a * 110_000 + b * 80_000,
                    format!("{a} thùng mì tôm, {b} thùng nước uống (giá trị quy đổi)"),
                )
            }
            1 => {
                let n = self.rng.range(2, 20) as u64 * 10;
                (
                    n * 450_000,
                    format!("{n} bao gạo loại 25 kg (giá trị quy đổi)"),
                )
            }
            _ => {
                let n = self.rng.range(1, 10) as u64 * 50;
                (
                    n * 250_000,
                    format!("{n} áo phao, đèn pin sạc và túi thuốc thiết yếu (giá trị quy đổi)"),
                )
            }
        }
    }

    fn transfer_note(&mut self, fund: usize, d: NaiveDate, donor: &str, person: bool) -> String {
        let body = match fund {
            HOUSING => *self.rng.pick(&[
                "ung ho quy vi nguoi ngheo",
                "ung ho xay nha dai doan ket",
                "ung ho chuong trinh xoa nha tam nha dot nat",
                "ung ho nguoi ngheo Quang Tri",
            ]),
            RELIEF if d >= date(9, 28) => *self.rng.pick(&[
                "ung ho dong bao bao so 10",
                "ung ho Quang Tri khac phuc hau qua bao so 10",
                "ung ho ba con vung lu",
                "ung ho mien Trung",
            ]),
            RELIEF if d >= date(8, 25) => *self.rng.pick(&[
                "ung ho dong bao bao so 5",
                "ung ho ba con vung bao",
                "ung ho dong bao bi thiet hai do bao so 5",
            ]),
            RELIEF => *self
                .rng
                .pick(&["ung ho dong bao bi thien tai", "ung ho quy cuu tro"]),
            _ => *self.rng.pick(&[
                "ung ho hoc bong nang buoc em den truong",
                "ung ho quy hoc bong",
            ]),
        };
        let upper = self.rng.chance(350);
        let text = if person && self.rng.chance(600) {
            format!("{} {body}", fold(donor))
        } else if self.rng.chance(200) {
            format!("MBVCB.{}.{body}", self.rng.digits(8))
        } else {
            body.to_string()
        };
        if upper { text.to_uppercase() } else { text }
    }

    /// All donations, in date order. Large allocations are scheduled explicitly.
    fn donations(&mut self) -> Vec<Donation> {
        let mut out = Vec::new();
        let mut d = date(8, 1);
        while d <= date(11, 30) {
            // Scheduled allocations and pledges (bank transfers), at the start of the day.
            for &(m, day, fund, donor, amount, note) in SCHEDULED {
                if d == date(m, day) {
                    let reference = Some(self.bank_ref(d));
                    out.push(Donation {
                        fund,
                        date: d,
                        donor: donor.to_string(),
                        amount,
                        channel: "bank",
                        reference,
                        note: Some(note.to_string()),
                        flag: Flag::None,
                    });
                }
            }
            for fund in 0..FUNDS.len() {
                let e = Self::expected_milli(fund, d);
                if e == 0 {
                    continue;
                }
                let jitter = 700 + self.rng.below(601);
                let n = (e * jitter + 500_000) / 1_000_000;
                for _ in 0..n {
                    out.push(self.donation(fund, d));
                }
            }
            d += Duration::days(1);
        }
        // Keep the day's order but interleave funds as a statement would (stable sort).
        let mut keyed: Vec<(NaiveDate, u64, Donation)> = out
            .into_iter()
            .map(|x| (x.date, self.rng.below(1 << 30), x))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<Donation> = keyed.into_iter().map(|x| x.2).collect();

        // The duplicated cash receipt (relief fund, mid-September).
        if let Some(i) = out.iter().position(|x| {
            x.fund == RELIEF && x.channel == "cash" && x.date >= date(9, 9) && !x.donor.is_empty()
        }) {
            out[i].flag = Flag::Duplicate;
        }
        // The mistyped amount (housing fund, October): 500.000 entered as 5.000.000.
        if let Some(i) = out.iter().position(|x| {
            x.fund == HOUSING && x.channel == "bank" && x.amount == 500_000 && x.date >= date(10, 6)
        }) {
            out[i].flag = Flag::Typo;
        }
        out
    }

    // -----------------------------------------------------------------------------------
    // Households
    // -----------------------------------------------------------------------------------

    fn households(&mut self, days: &[NaiveDate]) -> Vec<Household> {
        const N: usize = 360;
        // Registration days: batches 1.. up to 14 November, more of them early on.
        let reg_days: Vec<(usize, u32)> = days
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, d)| **d <= date(11, 14))
            .map(|(i, d)| {
                let w = match d.month() {
                    8 => 12,
                    9 => 10,
                    10 => 7,
                    _ => 3,
                };
                (i, w)
            })
            .collect();
        let commune_weights: Vec<(usize, u32)> = COMMUNES
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.weight))
            .collect();

        let mut plan: Vec<(usize, usize)> = (0..N)
            .map(|_| {
                (
                    self.rng.weighted(&reg_days),
                    self.rng.weighted(&commune_weights),
                )
            })
            .collect();
        // A commune's list arrives together: sort by batch, then commune.
        plan.sort();

        let mut next_id = 100 + self.rng.below(40);
        let mut out = Vec::with_capacity(N);
        for (reg_batch, ci) in plan {
            let commune = COMMUNES[ci];
            let day = days[reg_batch];
            next_id += 1 + self.rng.below(24);
            let id = format!("qt-{next_id:06}");
            let support = if self.rng.chance(620) {
                Support::New
            } else {
                Support::Repair
            };
            let candidates: Vec<&Circumstance> = CIRCUMSTANCES
                .iter()
                .filter(|x| x.support == support)
                .filter(|x| x.after.is_none_or(|(m, d)| day >= date(m, d)))
                .filter(|x| !x.mountain_only || commune.mountain)
                .collect();
            let circumstance = *self.rng.pick(&candidates);
            let (head, female) = self.person(circumstance.sex, commune.mountain);
            let age = self.rng.range(
                circumstance.min_age as i64,
                88.max(circumstance.min_age as i64 + 10),
            ) as i32;
            let birth_year = 2025 - age;
            let code = if self.rng.chance(50) {
                *self.rng.pick(OTHER_ID_CODES)
            } else {
                commune.id_code
            };
            let citizen_id = self.citizen_id(code, female, birth_year);
            let planned = if support == Support::New {
                60_000_000
            } else {
                30_000_000
            };

            let mut m = obj("household");
            put(&mut m, "id", id.clone());
            put(&mut m, "head", head);
            put(&mut m, "province", "Quảng Trị");
            // Records carried over from the lists drawn up before 1 July 2025 keep the district.
            if day <= date(8, 29) && self.rng.chance(850) {
                put(&mut m, "district", commune.old_district);
            }
            put(&mut m, "commune", format!("xã {}", commune.name));
            if self.rng.chance(900) {
                let village = if commune.mountain && self.rng.chance(700) {
                    if commune.id_code == "044" {
                        format!("bản {}", self.rng.pick(VILLAGES_MOUNTAIN_QB))
                    } else {
                        format!("thôn {}", self.rng.pick(VILLAGES_MOUNTAIN_QT))
                    }
                } else {
                    format!("thôn {}", self.rng.pick(VILLAGES_LOWLAND))
                };
                put(&mut m, "village", village);
            }
            put(&mut m, "circumstances", circumstance.text);
            put(
                &mut m,
                "support",
                if support == Support::New {
                    "new"
                } else {
                    "repair"
                },
            );
            put(&mut m, "planned", planned);
            put(&mut m, "photo_consent", self.rng.chance(870));
            put(&mut m, "citizen_id", citizen_id);
            if self.rng.chance(420) {
                put(&mut m, "phone", format!("09{}", self.rng.digits(8)));
            }
            out.push(Household {
                id,
                commune: ci,
                support,
                planned,
                reg_batch,
                stage: Stage::Approved,
                ready: day,
                advance: 0,
                entry: Value::Object(m),
            });
        }
        out
    }

    fn progress(
        &mut self,
        hh: &str,
        d: NaiveDate,
        stage: &str,
        notes: &[&str],
        per_mille: u64,
    ) -> Value {
        let mut m = obj("progress");
        put(&mut m, "household", hh);
        put(&mut m, "date", ymd(d));
        put(&mut m, "stage", stage);
        if self.rng.chance(per_mille) {
            put(&mut m, "note", *self.rng.pick(notes));
        }
        Value::Object(m)
    }

    fn disbursement(
        fund: usize,
        amount: u64,
        d: NaiveDate,
        household: Option<&str>,
        payee: Option<String>,
        purpose: String,
    ) -> Value {
        let mut m = obj("disbursement");
        put(&mut m, "fund", FUNDS[fund].id);
        put(&mut m, "amount", amount);
        put(&mut m, "date", ymd(d));
        if let Some(h) = household {
            put(&mut m, "household", h);
        }
        if let Some(p) = payee {
            put(&mut m, "payee", p);
        }
        put(&mut m, "purpose", purpose);
        Value::Object(m)
    }

    fn payouts(&mut self) -> Vec<Payout> {
        let mut out = Vec::new();
        let by_district = |names: &[&str]| -> Vec<usize> {
            COMMUNES
                .iter()
                .enumerate()
                .filter(|(_, c)| names.contains(&c.old_district))
                .map(|(i, _)| i)
                .collect()
        };
        // Storm No. 5 hit the northern districts of former Quảng Bình hardest.
        let north = by_district(&["Tuyên Hóa", "Minh Hóa", "Quảng Trạch", "Bố Trạch"]);
        for &(m, d) in &[(9, 4), (9, 11), (9, 18)] {
            for commune in self.rng.distinct(&north, 3) {
                let units = self.rng.range(8, 45) as u64;
                out.push(Payout {
                    not_before: date(m, d),
                    fund: RELIEF,
                    commune,
                    units,
                    rate: 3_000_000,
                    purpose: purpose_storm5,
                });
            }
        }
        // Storm No. 10 damaged the whole province.
        let all: Vec<usize> = (0..COMMUNES.len()).collect();
        for &(m, d) in &[
            (10, 2),
            (10, 7),
            (10, 9),
            (10, 14),
            (10, 16),
            (10, 21),
            (10, 23),
            (10, 28),
            (11, 4),
            (11, 11),
            (11, 20),
        ] {
            for (k, commune) in self.rng.distinct(&all, 4).into_iter().enumerate() {
                if k == 0 {
                    let units = self.rng.range(2, 9) as u64;
                    out.push(Payout {
                        not_before: date(m, d),
                        fund: RELIEF,
                        commune,
                        units,
                        rate: 20_000_000,
                        purpose: purpose_storm10_collapsed,
                    });
                } else {
                    let units = self.rng.range(20, 120) as u64;
                    out.push(Payout {
                        not_before: date(m, d),
                        fund: RELIEF,
                        commune,
                        units,
                        rate: 3_000_000,
                        purpose: purpose_storm10_roof,
                    });
                }
            }
        }
        // Scholarships before the school year (5 September) and in the autumn.
        let mountain: Vec<usize> = COMMUNES
            .iter()
            .enumerate()
            .filter(|(_, c)| c.mountain)
            .map(|(i, _)| i)
            .collect();
        for &(m, d, n) in &[(9, 3, 4), (10, 15, 3), (11, 19, 3)] {
            for commune in self.rng.distinct(&mountain, n) {
                let units = self.rng.range(2, 6) as u64 * 10;
                out.push(Payout {
                    not_before: date(m, d),
                    fund: SCHOLAR,
                    commune,
                    units,
                    rate: 2_000_000,
                    purpose: purpose_scholarship,
                });
            }
        }
        out
    }
}

fn purpose_storm5(units: u64, rate: u64) -> String {
    format!(
        "Hỗ trợ {units} hộ có nhà bị tốc mái, hư hỏng do bão số 5, mức {} đồng/hộ",
        vnd(rate)
    )
}
fn purpose_storm10_collapsed(units: u64, rate: u64) -> String {
    format!(
        "Hỗ trợ khẩn cấp {units} hộ có nhà bị sập hoàn toàn do bão số 10, mức {} đồng/hộ",
        vnd(rate)
    )
}
fn purpose_storm10_roof(units: u64, rate: u64) -> String {
    format!(
        "Hỗ trợ {units} hộ có nhà bị tốc mái, hư hỏng do bão số 10, mức {} đồng/hộ",
        vnd(rate)
    )
}
fn purpose_scholarship(units: u64, rate: u64) -> String {
    format!(
        "Trao {units} suất học bổng “Nâng bước em đến trường” cho học sinh có hoàn cảnh khó khăn, mức {} đồng/suất",
        vnd(rate)
    )
}

/// Large allocations and pledges, by (month, day, fund, donor, amount, transfer note).
const SCHEDULED: &[(u32, u32, usize, &str, u64, &str)] = &[
    (
        8,
        4,
        HOUSING,
        "Ủy ban Trung ương MTTQ Việt Nam",
        3_000_000_000,
        "Phan bo Quy Vi nguoi ngheo Trung uong ho tro xoa nha tam, nha dot nat",
    ),
    (
        8,
        27,
        RELIEF,
        "Ủy ban Trung ương MTTQ Việt Nam",
        2_000_000_000,
        "Phan bo kinh phi ho tro khac phuc hau qua bao so 5",
    ),
    (
        9,
        12,
        HOUSING,
        "Công ty Cổ phần Đầu tư Hạ tầng Bắc Miền Trung",
        1_200_000_000,
        "Tai tro xay 20 nha dai doan ket",
    ),
    (
        9,
        26,
        HOUSING,
        "Hội đồng hương Quảng Bình tại TP. Hồ Chí Minh",
        600_000_000,
        "Ung ho xay 10 nha dai doan ket cho ba con que nha",
    ),
    (
        10,
        2,
        RELIEF,
        "Ủy ban Trung ương MTTQ Việt Nam",
        5_000_000_000,
        "Phan bo kinh phi ho tro khac phuc hau qua bao so 10",
    ),
    (
        10,
        17,
        HOUSING,
        "Ủy ban Trung ương MTTQ Việt Nam",
        4_000_000_000,
        "Phan bo Quy Vi nguoi ngheo Trung uong dot 2",
    ),
    (
        11,
        10,
        HOUSING,
        "Công ty TNHH Xây dựng và Thương mại Trường Sơn",
        1_500_000_000,
        "Tai tro xay 25 nha dai doan ket nhan Ngay hoi Dai doan ket toan dan toc",
    ),
];

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

/// Same seed → identical output, byte for byte, forever (no HashMap iteration order, no clock).
pub fn generate(seed: u64) -> Vec<Batch> {
    let mut g = Gen {
        rng: Rng(ChaCha8Rng::seed_from_u64(seed)),
        count: 0,
        received: [0; 4],
        disbursed: [0; 4],
        committed: 0,
        refs: BTreeSet::new(),
        citizen_ids: BTreeSet::new(),
    };

    // Batch days: 1 August (funds), then every working day; the last one, Monday 1 December,
    // only imports the statements of the last weekend of November.
    let mut days = Vec::new();
    let mut d = date(8, 1);
    while d <= date(12, 1) {
        if is_working_day(d) {
            days.push(d);
        }
        d += Duration::days(1);
    }
    let last_activity = date(11, 30);

    let donations = g.donations();
    let mut households = g.households(&days);
    let mut payouts = g.payouts();
    let mut next_donation = 0;
    // (batch index, correction body)
    let mut corrections: Vec<(usize, Value)> = Vec::new();

    let mut batches = Vec::with_capacity(days.len());
    for (bi, &day) in days.iter().enumerate() {
        let signer = if bi == 0 {
            ADMIN
        } else if matches!(day.weekday(), Weekday::Tue | Weekday::Thu) {
            OFFICER_VINHLINH
        } else {
            OFFICER_DONGHOI
        };
        let mut entries: Vec<Value> = Vec::new();
        let mut push = |g: &mut Gen, v: Value| -> u64 {
            entries.push(v);
            g.count += 1;
            SEQ_OFFSET + g.count - 1
        };

        if bi == 0 {
            for f in FUNDS {
                let mut m = obj("fund");
                put(&mut m, "id", f.id);
                put(&mut m, "name", f.name);
                put(&mut m, "description", f.description);
                if let Some(t) = f.target {
                    put(&mut m, "target", t);
                }
                if let Some((bin, number, holder)) = f.account {
                    let mut a = Map::new();
                    put(&mut a, "bank_bin", bin);
                    put(&mut a, "number", number);
                    put(&mut a, "holder", holder);
                    m.insert("account".into(), Value::Object(a));
                }
                push(&mut g, Value::Object(m));
            }
            batches.push(Batch {
                signer,
                day: ymd(day),
                entries,
            });
            continue;
        }

        // 1. New households from the communes' lists, approved the same day.
        for h in households.iter_mut().filter(|h| h.reg_batch == bi) {
            push(&mut g, h.entry.clone());
            let p = g.progress(&h.id, day, "approved", NOTES_APPROVED, 300);
            push(&mut g, p);
            h.ready = day + Duration::days(g.rng.range(7, 30));
        }

        // 2. Statements and receipts of the previous working day(s).
        while next_donation < donations.len() && donations[next_donation].date < day {
            let x = &donations[next_donation];
            next_donation += 1;
            match x.flag {
                Flag::None => {
                    push(&mut g, x.to_value(x.amount));
                    g.received[x.fund] += x.amount;
                }
                Flag::Duplicate => {
                    let first = push(&mut g, x.to_value(x.amount));
                    let second = push(&mut g, x.to_value(x.amount));
                    // The copy is never counted as received.
                    g.received[x.fund] += x.amount;
                    let mut m = obj("correction");
                    put(&mut m, "target", second);
                    put(
                        &mut m,
                        "reason",
                        format!(
                            "Phiếu thu tiền mặt được nhập hai lần, trùng với mục số {first}; hủy mục nhập trùng"
                        ),
                    );
                    corrections.push(((bi + 3).min(days.len() - 1), Value::Object(m)));
                }
                Flag::Typo => {
                    let typed = x.amount * 10;
                    let seq = push(&mut g, x.to_value(typed));
                    // Only the true amount ever counts as received.
                    g.received[x.fund] += x.amount;
                    let mut m = obj("correction");
                    put(&mut m, "target", seq);
                    put(
                        &mut m,
                        "reason",
                        format!(
                            "Nhập sai số tiền khi đối chiếu sao kê ngân hàng: số đúng là {} đồng, đã nhập {} đồng",
                            vnd(x.amount),
                            vnd(typed)
                        ),
                    );
                    let mut amend = Map::new();
                    put(&mut amend, "amount", x.amount);
                    m.insert("amend".into(), Value::Object(amend));
                    corrections.push(((bi + 2).min(days.len() - 1), Value::Object(m)));
                }
            }
        }

        // 3. Corrections due today.
        for (_, body) in corrections.iter().filter(|(b, _)| *b == bi) {
            push(&mut g, body.clone());
        }

        if day > last_activity {
            batches.push(Batch {
                signer,
                day: ymd(day),
                entries,
            });
            continue;
        }

        // 4. Payouts to communes, when the fund can pay them.
        for p in payouts
            .iter_mut()
            .filter(|p| p.units > 0 && p.not_before <= day)
        {
            let affordable = g.balance(p.fund) / p.rate;
            let units = p.units.min(affordable);
            if units == 0 {
                continue;
            }
            let amount = units * p.rate;
            let payee = format!("UBND xã {}", COMMUNES[p.commune].name);
            let v = Gen::disbursement(
                p.fund,
                amount,
                day,
                None,
                Some(payee),
                (p.purpose)(units, p.rate),
            );
            push(&mut g, v);
            g.disbursed[p.fund] += amount;
            p.units = 0;
        }

        // 5. Construction progress, in household order.
        let mut starts_today = 0;
        for h in households.iter_mut().filter(|h| h.reg_batch < bi) {
            let what = if h.support == Support::New {
                "xây mới"
            } else {
                "sửa chữa"
            };
            match h.stage {
                Stage::Approved if day >= h.ready => {
                    // Start only when the whole house is funded.
                    let free = g.balance(HOUSING).saturating_sub(g.committed);
                    if free < h.planned || starts_today >= 9 {
                        continue;
                    }
                    starts_today += 1;
                    let p = g.progress(&h.id, day, "started", NOTES_STARTED, 450);
                    push(&mut g, p);
                    h.advance = h.planned / 2;
                    let v = Gen::disbursement(
                        HOUSING,
                        h.advance,
                        day,
                        Some(&h.id),
                        None,
                        format!("Tạm ứng đợt 1 hỗ trợ {what} nhà Đại đoàn kết khi khởi công"),
                    );
                    push(&mut g, v);
                    g.disbursed[HOUSING] += h.advance;
                    g.committed += h.planned - h.advance;
                    h.stage = Stage::Started;
                    let build = if h.support == Support::New {
                        g.rng.range(40, 75)
                    } else {
                        g.rng.range(15, 35)
                    };
                    h.ready = day + Duration::days(build);
                }
                Stage::Started if day >= h.ready => {
                    let p = g.progress(&h.id, day, "completed", NOTES_COMPLETED, 400);
                    push(&mut g, p);
                    let rest = h.planned - h.advance;
                    let v = Gen::disbursement(
                        HOUSING,
                        rest,
                        day,
                        Some(&h.id),
                        None,
                        format!(
                            "Thanh toán đợt 2 (phần còn lại) hỗ trợ {what} nhà Đại đoàn kết khi hoàn thành"
                        ),
                    );
                    push(&mut g, v);
                    g.committed -= rest;
                    g.disbursed[HOUSING] += rest;
                    h.stage = Stage::Completed;
                    // Many houses finished from late October are handed over together on
                    // 18 November, the Day of Great National Unity; the others when the
                    // commune organises it, weeks later.
                    h.ready = if day >= date(10, 20) && day < date(11, 14) && g.rng.chance(450) {
                        date(11, 18)
                    } else {
                        day + Duration::days(g.rng.range(30, 80))
                    };
                }
                Stage::Completed if day >= h.ready => {
                    let v = if day == date(11, 18) {
                        let mut m = obj("progress");
                        put(&mut m, "household", h.id.as_str());
                        put(&mut m, "date", ymd(day));
                        put(&mut m, "stage", "handed_over");
                        put(
                            &mut m,
                            "note",
                            "Bàn giao nhà trong Ngày hội Đại đoàn kết toàn dân tộc ở khu dân cư",
                        );
                        Value::Object(m)
                    } else {
                        g.progress(&h.id, day, "handed_over", NOTES_HANDED, 350)
                    };
                    push(&mut g, v);
                    h.stage = Stage::HandedOver;
                }
                _ => {}
            }
        }

        batches.push(Batch {
            signer,
            day: ymd(day),
            entries,
        });
    }
    debug_assert_eq!(next_donation, donations.len());
    batches
}

/// Every household circumstance text, for other generators (the benchmark
/// data) that need realistic sentences without the demo's rules.
pub fn circumstance_texts() -> impl Iterator<Item = &'static str> {
    CIRCUMSTANCES.iter().map(|c| c.text)
}
