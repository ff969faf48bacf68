//! Numbers as Redis reads and prints them: `string2ll`, glibc's `strtod` and `%.17g`.

/// Redis' `string2ll`: strict decimal, no sign but `-`, no leading zeros, no spaces, and at
/// most 20 bytes. What `getLongLongFromObject` accepts.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > 1 << 63 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What glibc's `strtod` makes of the longest prefix it accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Strtod {
    pub value: f64,
    /// Bytes consumed (0 when nothing was parsed, like `endptr == s`).
    pub consumed: usize,
    /// `errno == ERANGE`: overflow to ±inf or underflow to zero.
    pub range_error: bool,
}

fn eq_ignore_case(s: &[u8], at: usize, word: &[u8]) -> bool {
    s.get(at..at + word.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// glibc's `strtod`: leading spaces, a sign, then `inf`/`infinity`, `nan[(...)]`, a hex
/// float or a decimal one; the rest is left unconsumed.
pub(crate) fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        consumed: 0,
        range_error: false,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    if eq_ignore_case(s, i, b"inf") {
        let n = if eq_ignore_case(s, i, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: sign(f64::INFINITY),
            consumed: i + n,
            range_error: false,
        };
    }
    if eq_ignore_case(s, i, b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let mut j = end + 1;
            while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                end = j + 1;
            }
        }
        return Strtod {
            value: sign(f64::NAN),
            consumed: end,
            range_error: false,
        };
    }
    if s.get(i) == Some(&b'0') && matches!(s.get(i + 1), Some(b'x' | b'X')) {
        if let Some((v, end, nonzero)) = hex_float(s, i + 2) {
            return finish(sign(v), end, nonzero);
        }
        // "0x" without hex digits: only the "0" is a number.
        return Strtod {
            value: sign(0.0),
            consumed: i + 1,
            range_error: false,
        };
    }
    let mut text = String::new();
    let mut digits = 0;
    let mut nonzero = false;
    while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
        text.push(char::from(c));
        nonzero |= c != b'0';
        digits += 1;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        text.push('.');
        i += 1;
        while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            text.push(char::from(c));
            nonzero |= c != b'0';
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return none;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if let Some(&c @ (b'-' | b'+')) = s.get(j) {
            exp.push(char::from(c));
            j += 1;
        }
        let exp_start = j;
        while let Some(&c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            exp.push(char::from(c));
            j += 1;
        }
        if j > exp_start {
            text.push_str(&exp);
            i = j;
        }
    }
    let value = text.parse::<f64>().unwrap_or(0.0);
    finish(sign(value), i, nonzero)
}

fn finish(value: f64, consumed: usize, nonzero: bool) -> Strtod {
    Strtod {
        value,
        consumed,
        range_error: value.is_infinite() || (value == 0.0 && nonzero),
    }
}

/// A hex float's mantissa from `s[at..]` (after `0x`), with an optional `p` exponent.
/// Returns the value, the end, and whether a nonzero digit was seen.
fn hex_float(s: &[u8], at: usize) -> Option<(f64, usize, bool)> {
    let mut i = at;
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut seen_point = false;
    loop {
        match s.get(i) {
            Some(&c) if c.is_ascii_hexdigit() => {
                let d = u64::from(char::from(c).to_digit(16).unwrap_or(0));
                nonzero |= d != 0;
                if mantissa >> 56 == 0 {
                    mantissa = mantissa * 16 + d;
                    if seen_point {
                        exp -= 4;
                    }
                } else if !seen_point {
                    exp += 4; // digits beyond 64 bits of precision only scale
                }
                digits += 1;
            }
            Some(b'.') if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let negative = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let exp_start = j;
        let mut e: i64 = 0;
        while let Some(&c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            e = (e * 10 + i64::from(c - b'0')).min(100_000);
            j += 1;
        }
        if j > exp_start {
            exp += if negative { -e } else { e };
            i = j;
        }
    }
    let value = (mantissa as f64) * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((value, i, nonzero))
}

/// Redis' `string2d` (ZADD scores, `getDoubleFromObject`): the whole string must be a
/// number, no leading space, no overflow or underflow to zero, no NaN.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let r = strtod(s);
    if r.consumed != s.len() || r.value.is_nan() {
        return None;
    }
    if r.range_error && (r.value.is_infinite() || r.value == 0.0) {
        return None;
    }
    Some(r.value)
}

/// One end of a score range as `zslParseRange` reads it: `(` makes it exclusive, then plain
/// `strtod` up to the end of the string (an empty string reads as 0), never NaN.
pub(crate) fn parse_range_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, rest) = match s.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, s),
    };
    // strtod stops at a NUL byte, as C strings end there.
    let r = strtod(rest);
    if r.consumed != rest.len() || r.value.is_nan() {
        return None;
    }
    Some((r.value, exclusive))
}

/// C's `printf("%.17g", x)` with glibc's spellings (`inf`, `-inf`, `nan`, `-nan`): how
/// Redis 7.0 prints scores and the numbers a script passes to `redis.call`.
pub(crate) fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // 17 significant digits, correctly rounded: d.dddddddddddddddde<exp>.
    let sci = format!("{:.16e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(32);
    if x < 0.0 {
        out.push('-');
    }
    if (-4..17).contains(&exp) {
        // Fixed notation with 17 - 1 - exp decimals, trailing zeros removed.
        if exp >= 0 {
            let point = exp as usize + 1;
            out.push_str(&digits[..point]);
            let frac = digits[point..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// `(long long)x` as x86-64 computes it: truncation, and `LLONG_MIN` for NaN and anything
/// out of range (how Redis turns a Lua number into an integer reply).
pub(crate) fn lua_number_to_i64(x: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        i64::MIN
    } else {
        x.trunc() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_strict() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.0",
            b"00000000000000000000001",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_read_like_string2d() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"5e-324"), Some(5e-324));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"0x",
            b"1\0",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_bounds_read_like_zsl_parse_range() {
        assert_eq!(parse_range_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_range_bound(b""), Some((0.0, false)));
        assert_eq!(parse_range_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_range_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_range_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_range_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_range_bound(b"x"), None);
        assert_eq!(parse_range_bound(b"nan"), None);
    }

    #[test]
    fn g17_matches_glibc() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1.1, "1.1000000000000001"),
            (1e20, "1e+20"),
            (1e-5, "1.0000000000000001e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (2.5, "2.5"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (0.000123, "0.00012300000000000001"),
            (1e-4, "0.0001"),
            (1e23, "9.9999999999999992e+22"),
            (3.0, "3"),
            (-1800000000.0, "-1800000000"),
            (-0.0, "-0"),
            (12.7, "12.699999999999999"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(x, s) in cases {
            assert_eq!(format_g17(x), s, "{x:?}");
        }
    }

    #[test]
    fn lua_numbers_truncate_like_x86() {
        assert_eq!(lua_number_to_i64(3.99), 3);
        assert_eq!(lua_number_to_i64(-3.99), -3);
        assert_eq!(lua_number_to_i64(1e300), i64::MIN);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_i64(-9.3e18), i64::MIN);
    }
}
