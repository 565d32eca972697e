//! Amounts as people read them: integer minor units shown with the number of
//! decimals their currency has at Stripe (which is where the amounts come from).

/// Currencies Stripe counts in whole units (an amount of 500 JPY is ¥500).
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
];
/// Currencies Stripe counts in thousandths (an amount of 5000 KWD is 5.000 KWD).
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// How many digits of an amount in minor units are decimals: 0, 2 or 3.
/// `currency` is an ISO 4217 code in any case.
pub fn minor_unit_digits(currency: &str) -> u32 {
    let code = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// `amount_minor` of `currency` as "EUR 1,234.56" (the code upper case, a
/// comma between thousands, a point before the decimals; "-EUR 5.00" below zero).
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    let digits = minor_unit_digits(currency);
    let scale = 10u128.pow(digits);
    let magnitude = u128::from(amount_minor.unsigned_abs());
    let whole = group_thousands(magnitude / scale);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let code = currency.to_ascii_uppercase();
    if digits == 0 {
        format!("{sign}{code} {whole}")
    } else {
        let fraction = magnitude % scale;
        format!("{sign}{code} {whole}.{fraction:0width$}", width = digits as usize)
    }
}

fn group_thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_currency_shows_its_own_decimals() {
        assert_eq!(format_amount(5000, "JPY"), "JPY 5,000");
        assert_eq!(format_amount(5000, "eur"), "EUR 50.00");
        assert_eq!(format_amount(5000, "USD"), "USD 50.00");
        assert_eq!(format_amount(5000, "KWD"), "KWD 5.000");
        assert_eq!(format_amount(12_345, "BHD"), "BHD 12.345");
        assert_eq!(format_amount(7, "EUR"), "EUR 0.07");
        assert_eq!(format_amount(0, "EUR"), "EUR 0.00");
        assert_eq!(format_amount(123_456_789, "EUR"), "EUR 1,234,567.89");
        assert_eq!(format_amount(-2500, "EUR"), "-EUR 25.00");
        assert_eq!(format_amount(i64::MIN, "JPY"), "-JPY 9,223,372,036,854,775,808");
    }

    proptest! {
        /// What is shown reads back as the same number of minor units.
        #[test]
        fn the_text_reads_back_as_the_amount(amount in any::<i64>(), code in prop::sample::select(vec!["JPY", "EUR", "KWD", "NGN", "CLP", "TND"])) {
            let text = format_amount(amount, code);
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let back: i128 = digits.parse().unwrap();
            prop_assert_eq!(if text.starts_with('-') { -back } else { back }, i128::from(amount));
            let decimals = text.rsplit_once('.').map_or(0, |(_, d)| d.len() as u32);
            prop_assert_eq!(decimals, minor_unit_digits(code));
        }
    }
}
