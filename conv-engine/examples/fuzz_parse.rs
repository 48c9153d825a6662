//! A fuzz driver for the attribute parser that runs on the stable toolchain (cargo-fuzz needs
//! nightly).
//!
//! ```sh
//! cargo run --release -p conv-engine --example fuzz_parse -- [SECONDS] [SEED]
//! ```
//!
//! For `SECONDS` (default 10) it generates random attribute texts from the attribute's
//! vocabulary (keys, misspelt keys, sizes, pairs, tuples, keywords, numbers from 0 to far past
//! `u64::MAX`, non-ASCII digits and identifiers, stray punctuation), lexes each with
//! `proc_macro2::TokenStream::from_str` (texts that do not lex are counted and skipped) and
//! calls `conv_engine::parse::parse(attr, quote!(struct S;))` under `catch_unwind`. Three ways
//! of generating a text: `key = value` entries with occasional damage, a soup of vocabulary and
//! punctuation, and character-level mutations of valid attributes.
//!
//! Every accepted attribute whose layer has at most [`EXPAND_MACS`] multiply-adds is also
//! expanded: `conv_engine::emit::generate` (derivation, symbolic proof, code, docs and the
//! compile-time check's tokens), under `catch_unwind`. Larger accepted layers are counted, not
//! expanded, so that expansion stays a small share of the budget.
//!
//! It fails (exit code 1) when the parser or the expansion panics, the parser returns an error
//! with an empty message or accepts an attribute without both `input` and `kernel`, the
//! expansion of an accepted attribute returns an error, or the run tried nothing of a kind:
//! no input accepted, none rejected, or none expanded (a run that cannot reach validation or
//! expansion checks nothing there). It exits with code 2 when one input takes longer than
//! 10 s (a hang). It prints each failing input (with the parsed spec where there is one), the
//! counts, and the most frequent error messages (numbers and quoted code replaced by `#` and
//! `` `..` ``), which show how deep into validation the inputs get.
//!
//! The seed is printed. Without `SEED` it is drawn from the clock, so runs by hand explore new
//! inputs; CI passes a fixed one. The same seed gives the same sequence of inputs, so a run
//! with the same seed and at least the same `SECONDS` on a machine at least as fast repeats
//! every input of the earlier run.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proc_macro2::{TokenStream, TokenTree};

/// Most multiply-adds per forward pass of an accepted layer that the driver also expands (a
/// layer of this size expands in about a millisecond in a release build).
const EXPAND_MACS: usize = 2_000;

/// splitmix64 (no dependency needed for a fuzz driver's randomness), and whether the current
/// input keeps to small numbers (so that more inputs reach the geometry checks).
struct Rng {
    state: u64,
    tame: bool,
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `1 / n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "input",
    "kernel",
    "stride",
    "dilation",
    "padding",
    "in_channels",
    "out_channels",
    "scalar",
    "unroll",
];
const MISSPELT_KEYS: &[&str] = &[
    "inptu",
    "Input",
    "kernal",
    "strides",
    "pad",
    "dilations",
    "channels",
    "in_channel",
    "type",
    "r#input",
    "_",
    "self",
    "crate",
    "input_",
    "ınput",
    "kérnel",
    "入力",
];
const KEYWORDS: &[&str] = &[
    "same", "valid", "SAME", "Valid", "f32", "f64", "f16", "i32", "full", "window", "auto", "rows",
    "none", "true", "r#same", "x", "X", "by",
];
const PUNCT: &[&str] = &[
    "=", "==", ",", ",,", ";", ":", "::", "(", ")", "[", "]", "{", "}", "()", "[]", "{}", "#", "!",
    "?", "@", "$", "&", "|", "^", "~", "*", "+", "-", "/", "%", "<", ">", ".", "..", "=>", "'",
    "'a", "\"5x5\"", "\"\"", "b'x'", "'x'", "//", "/*", "*/", "\\", "`", "->", "_",
];
const ODD_TOKENS: &[&str] = &[
    "ü", "π", "日本", "🦀", "\u{200b}", "\u{feff}", "é", "x5", "5x", "5x5x5", "5×5", "5 x 5",
    "5X5", "0x0", "0x10", "0b11", "0o7", "1e3", "1_000", "3.5", "1.", "-1", "1usize", "5u8",
    "5x5u8", "٣", "５", "Ⅴ", "1__", "5x_5", "5_x5", "NaN", "inf", "\t", "\n",
];

/// A number as written: small, boundary, huge, or odd; for a tame input, mostly 1 to 12.
fn number(rng: &mut Rng) -> String {
    if rng.tame && !rng.one_in(20) {
        return (1 + rng.below(12)).to_string();
    }
    match rng.below(12) {
        0 => "0".into(),
        1 | 2 => "1".into(),
        3..=5 => (2 + rng.below(8)).to_string(),
        6 => (10 + rng.below(60)).to_string(),
        7 => (100 + rng.below(100_000)).to_string(),
        8 => rng
            .pick(&[
                "4294967295",
                "4294967296",
                "18446744073709551615",
                "18446744073709551616",
                "9223372036854775807",
                "340282366920938463463374607431768211456",
                "99999999999999999999999999999999999999999999",
            ])
            .into(),
        9 => rng.next().to_string(),
        10 => (rng.next() >> rng.below(64)).to_string(),
        _ => rng.pick(ODD_TOKENS).into(),
    }
}

/// A value of the kind `key` takes, or of another kind.
fn value(rng: &mut Rng, key: &str) -> String {
    let kind = if rng.one_in(4) { rng.pick(KEYS) } else { key };
    let n = |rng: &mut Rng| number(rng);
    match (kind, rng.below(6)) {
        ("input" | "kernel", 0..=2) => format!("{}x{}", n(rng), n(rng)),
        ("input" | "kernel" | "stride" | "dilation", 3) => format!("({}, {})", n(rng), n(rng)),
        ("stride" | "dilation" | "in_channels" | "out_channels", 0..=2) => n(rng),
        ("padding", 0..=2) => rng.pick(&["same", "valid"]).into(),
        ("padding", 3) => format!("({}, {}, {}, {})", n(rng), n(rng), n(rng), n(rng)),
        ("scalar", 0..=3) => rng.pick(&["f32", "f64"]).into(),
        ("unroll", 0..=3) => rng.pick(&["full", "window", "rows", "auto"]).into(),
        (_, 4) => {
            // A tuple of any arity, any separator, any brackets.
            let items: Vec<String> = (0..rng.below(6)).map(|_| n(rng)).collect();
            let sep = rng.pick(&[", ", ",", " ", "; ", "x"]);
            let (open, close) = [("(", ")"), ("[", "]"), ("{", "}"), ("", "")][rng.below(4)];
            format!("{open}{}{close}", items.join(sep))
        }
        _ => rng.pick(KEYWORDS).into(),
    }
}

/// `key = value` entries, some damaged.
fn entries(rng: &mut Rng) -> String {
    let mut out = String::new();
    // Half of the time `input` and `kernel` come first, so that validation is reached.
    let required = if rng.one_in(2) { 2 } else { 0 };
    for i in 0..required + rng.below(7) {
        if i > 0 {
            out += rng.pick(&[", ", ", ", ", ", ",", " ", ",, ", "; "]);
        }
        let key = match KEYS.get(i) {
            Some(key) if i < required => key,
            _ if rng.one_in(10) => rng.pick(MISSPELT_KEYS),
            _ => rng.pick(KEYS),
        };
        let eq = if rng.one_in(15) {
            rng.pick(&["", ":", "==", "=>", "= ="])
        } else {
            "="
        };
        let v = if rng.one_in(20) {
            String::new()
        } else {
            value(rng, key)
        };
        out += &format!("{key} {eq} {v}");
        if rng.one_in(12) {
            out += " ";
            let junk = if rng.one_in(2) { PUNCT } else { ODD_TOKENS };
            out += rng.pick(junk);
        }
    }
    if rng.one_in(8) {
        out += ",";
    }
    out
}

/// Vocabulary and punctuation in any order.
fn soup(rng: &mut Rng) -> String {
    let words: Vec<String> = (0..rng.below(16))
        .map(|_| match rng.below(6) {
            0 => rng.pick(KEYS).to_string(),
            1 => rng.pick(KEYWORDS).to_string(),
            2 | 3 => rng.pick(PUNCT).to_string(),
            4 => number(rng),
            _ => rng.pick(ODD_TOKENS).to_string(),
        })
        .collect();
    words.join(rng.pick(&[" ", "", " "]))
}

const VALID: &[&str] = &[
    "input = 5x5, kernel = 3x3",
    "input = 28x28, kernel = 5x5, stride = 2, padding = same",
    "input = (7, 6), kernel = (3, 2), stride = (2, 1), dilation = 2, padding = (1, 0, 2, 1)",
    "input = 6x5, kernel = 3x3, in_channels = 2, out_channels = 3, scalar = f64, unroll = window",
    "kernel = 1x1, input = 1x1, unroll = full, scalar = f32,",
];

/// A valid attribute with a few characters inserted, deleted or replaced.
fn mutated(rng: &mut Rng) -> String {
    let mut chars: Vec<char> = rng.pick(VALID).chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        let insert: Vec<char> = match rng.below(3) {
            0 => rng.pick(PUNCT).chars().collect(),
            1 => number(rng).chars().collect(),
            _ => rng.pick(ODD_TOKENS).chars().collect(),
        };
        match rng.below(3) {
            0 => {
                chars.splice(at..at, insert);
            }
            1 if at < chars.len() => {
                let end = (at + 1 + rng.below(4)).min(chars.len());
                chars.drain(at..end);
            }
            _ if at < chars.len() => {
                chars.splice(at..at + 1, insert);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn generate(rng: &mut Rng) -> String {
    rng.tame = rng.one_in(2);
    match rng.below(10) {
        0..=4 => entries(rng),
        5 | 6 => soup(rng),
        _ => mutated(rng),
    }
}

/// What one input did.
enum Outcome {
    Accepted(Box<(conv_engine::Spec, syn::ItemStruct)>),
    Rejected(Vec<String>),
}

/// Whether `attr` has the identifier `name` at its top level.
fn has_key(attr: &TokenStream, name: &str) -> bool {
    attr.clone()
        .into_iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i == name))
}

/// `error: ...` with numbers as `#` and backquoted code as `` `..` ``, for the message summary.
fn shape_of(msg: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for ch in msg.chars() {
        match ch {
            '`' if quoted => {
                quoted = false;
                out += "..`";
            }
            '`' => {
                quoted = true;
                out.push('`');
            }
            _ if quoted => {}
            '0'..='9' if out.ends_with('#') => {}
            '0'..='9' => out.push('#'),
            _ => out.push(ch),
        }
    }
    out
}

struct Counts {
    generated: u64,
    unlexable: u64,
    accepted: u64,
    rejected: u64,
    expanded: u64,
    too_large: u64,
    failures: u64,
    slowest: (Duration, String),
    messages: HashMap<String, u64>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: f64 = match args.first().map(|s| s.parse()) {
        None => 10.0,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("usage: fuzz_parse [SECONDS] [SEED]");
            return ExitCode::from(64);
        }
    };
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let seed: u64 = match args.get(1).map(|s| s.parse()) {
        None => clock,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("usage: fuzz_parse [SECONDS] [SEED]  (SEED: an integer up to 2^64 - 1)");
            return ExitCode::from(64);
        }
    };
    let origin = if args.len() > 1 {
        "given"
    } else {
        "from the clock"
    };
    println!("fuzz_parse: {seconds} s, seed {seed} ({origin}; repeat with `-- {seconds} {seed}`)");

    // Panics are reported by the driver, with the input: keep the message, not the default output.
    let last_panic = Arc::new(Mutex::new(String::new()));
    let hook_panic = Arc::clone(&last_panic);
    panic::set_hook(Box::new(move |info| {
        *hook_panic.lock().unwrap_or_else(|e| e.into_inner()) = info.to_string();
    }));

    // The watchdog: one input running for 10 s is a hang.
    let start = Instant::now();
    let current = Arc::new(Mutex::new(String::new()));
    let began = Arc::new(AtomicU64::new(0));
    {
        let (current, began) = (Arc::clone(&current), Arc::clone(&began));
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = start.elapsed().as_millis() as u64;
            let since = now.saturating_sub(began.load(Ordering::Relaxed));
            if since > 10_000 {
                let input = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
                eprintln!("HANG: one input has run for {since} ms: {input:?}");
                std::process::exit(2);
            }
        });
    }

    let item = TokenStream::from_str("struct S;").expect("the item lexes");
    let mut rng = Rng {
        state: seed,
        tame: false,
    };
    let budget = Duration::from_secs_f64(seconds);
    let mut c = Counts {
        generated: 0,
        unlexable: 0,
        accepted: 0,
        rejected: 0,
        expanded: 0,
        too_large: 0,
        failures: 0,
        slowest: (Duration::ZERO, String::new()),
        messages: HashMap::new(),
    };
    let fail = |c: &mut Counts, what: &str, text: &str| {
        c.failures += 1;
        if c.failures <= 20 {
            eprintln!("FAIL ({what}): {text:?}");
        }
    };
    while start.elapsed() < budget {
        let text = generate(&mut rng);
        c.generated += 1;
        *current.lock().unwrap_or_else(|e| e.into_inner()) = text.clone();
        began.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        let t0 = Instant::now();

        let lexed = panic::catch_unwind(|| TokenStream::from_str(&text));
        let attr = match lexed {
            Ok(Ok(attr)) => attr,
            Ok(Err(_)) => {
                c.unlexable += 1;
                continue;
            }
            Err(_) => {
                let msg = last_panic.lock().unwrap_or_else(|e| e.into_inner()).clone();
                fail(&mut c, &format!("proc_macro2 lexer panicked: {msg}"), &text);
                continue;
            }
        };
        let (a, i) = (attr.clone(), item.clone());
        let parsed = panic::catch_unwind(AssertUnwindSafe(move || {
            match conv_engine::parse::parse(a, i) {
                Ok(parsed) => Outcome::Accepted(Box::new(parsed)),
                Err(e) => {
                    // Rendering the error as the macro does must not panic either.
                    let _ = e.to_compile_error();
                    Outcome::Rejected(e.into_iter().map(|m| m.to_string()).collect())
                }
            }
        }));
        match parsed {
            Err(_) => {
                let msg = last_panic.lock().unwrap_or_else(|e| e.into_inner()).clone();
                fail(&mut c, &format!("parse panicked: {msg}"), &text);
            }
            Ok(Outcome::Accepted(parsed)) => {
                c.accepted += 1;
                if !(has_key(&attr, "input") && has_key(&attr, "kernel")) {
                    fail(&mut c, "accepted without `input` and `kernel`", &text);
                }
                let (spec, target) = *parsed;
                if spec.geometry.macs() > EXPAND_MACS {
                    c.too_large += 1;
                } else {
                    c.expanded += 1;
                    let expansion = panic::catch_unwind(AssertUnwindSafe(|| {
                        conv_engine::emit::generate(&spec, &target).map(|_| ())
                    }));
                    let what = match expansion {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(format!("expansion returned an error: {e}")),
                        Err(_) => {
                            let msg = last_panic.lock().unwrap_or_else(|e| e.into_inner()).clone();
                            Some(format!("expansion panicked: {msg}"))
                        }
                    };
                    if let Some(what) = what {
                        fail(&mut c, &format!("{what}; spec {spec:?}"), &text);
                    }
                }
            }
            Ok(Outcome::Rejected(messages)) => {
                c.rejected += 1;
                if messages.is_empty() || messages.iter().any(|m| m.trim().is_empty()) {
                    fail(&mut c, "an error with an empty message", &text);
                }
                for m in &messages {
                    *c.messages.entry(shape_of(m)).or_default() += 1;
                }
            }
        }
        let took = t0.elapsed();
        if took > c.slowest.0 {
            c.slowest = (took, text);
        }
    }

    let parsed = c.accepted + c.rejected;
    println!(
        "{} inputs generated in {:.1} s: {} did not lex; {parsed} tried: {} accepted, {} rejected; \
         {} accepted layers expanded, {} not (more than {EXPAND_MACS} multiply-adds); {} failures",
        c.generated,
        start.elapsed().as_secs_f64(),
        c.unlexable,
        c.accepted,
        c.rejected,
        c.expanded,
        c.too_large,
        c.failures
    );
    println!(
        "slowest input: {:.3} ms: {:?}",
        c.slowest.0.as_secs_f64() * 1e3,
        c.slowest.1
    );
    let mut top: Vec<(String, u64)> = c.messages.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{} distinct error messages; the most frequent:", top.len());
    for (msg, n) in top.iter().take(40) {
        println!("{n:>9}  {msg}");
    }
    let untried = [
        (c.accepted, "no input was accepted"),
        (c.rejected, "no input was rejected"),
        (c.expanded, "no accepted layer was expanded"),
    ];
    let mut ok = c.failures == 0;
    for (count, what) in untried {
        if count == 0 {
            eprintln!("FAIL: {what}, so this run checked nothing there (too short a budget?)");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
