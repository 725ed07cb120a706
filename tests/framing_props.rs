//! Property tests of the framing decoder (`src/meta/tcp/framing.rs`, issue 6 point 1).
//!
//! - The real `Decoder` against a deliberately simple reference model
//!   (`tests/support/framing_model.rs`, shared with the fuzz target in `fuzz/`): random valid
//!   option sets, random byte streams (mostly valid ones built from frames, and pure random
//!   bytes), split at random points into chunks pushed one by one. Same frames in the same
//!   order after the same chunk, same error at the same point, same `has_partial` at the end.
//! - `ChunkOptions::framing()`: every option set is refused with `InvalidArgument` exactly
//!   when a documented rule says so, and an accepted one runs in the decoder without panicking.
//!
//! Case counts are proptest's defaults (256 per property; about a second in a debug build).
//! Raise them with PROPTEST_CASES, e.g. `PROPTEST_CASES=100000 cargo test --test framing_props`.
//! A failing case is shrunk and saved in `tests/framing_props.proptest-regressions` (commit it:
//! it is replayed first on every run). Inputs found by the fuzz target (`fuzz/README.md`) are
//! replayed from `tests/framing_fuzz_regressions/` by `fuzz_regressions_replay`.

#[path = "support/framing_fuzz.rs"]
mod framing_fuzz;
#[path = "support/framing_model.rs"]
mod framing_model;

use actnet::meta::tcp::framing::{ChunkOptions, Framing};
use actnet::Error;
use framing_model::{expected_framing, run_decoder, run_model, split};
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------------------------------
// Option sets

/// Valid fixed-length options. Header fields are set to arbitrary non-negative values: a
/// fixed length makes the decoder ignore them.
fn fixed_options() -> impl Strategy<Value = ChunkOptions> {
    (prop_oneof![3 => 1i64..=16, 1 => 1i64..=300], prop_oneof![Just(0i64), 0i64..=200], 0i64..=40, 0i64..=40, 0i64..=8)
        .prop_map(|(n, extra, header_size, length_position, length_size)| ChunkOptions {
            enable: true,
            fixed_length: n,
            max_length: if extra == 0 { 0 } else { n + extra - 1 },
            header_size,
            length_position,
            length_size,
            includes_header: n % 2 == 0,
        })
}

/// Valid header options: header sizes 1..=16, length sizes 1/2/4 at any position that
/// fits, length including the header or not, no limit or a random one.
fn header_options() -> impl Strategy<Value = ChunkOptions> {
    (1i64..=16)
        .prop_flat_map(|header_size| {
            let sizes: Vec<i64> = [1, 2, 4].into_iter().filter(|&s| s <= header_size).collect();
            (Just(header_size), proptest::sample::select(sizes))
        })
        .prop_flat_map(|(header_size, length_size)| {
            (
                Just(header_size),
                Just(length_size),
                0..=header_size - length_size,
                any::<bool>(),
                prop_oneof![
                    2 => Just(0i64),
                    2 => header_size..=header_size + 80,
                    1 => header_size..=header_size + 1000,
                    1 => header_size..=1_000_000,
                ],
            )
        })
        .prop_map(|(header_size, length_size, length_position, includes_header, max_length)| ChunkOptions {
            enable: true,
            fixed_length: 0,
            header_size,
            length_position,
            length_size,
            includes_header,
            max_length,
        })
}

fn valid_options() -> impl Strategy<Value = ChunkOptions> {
    prop_oneof![
        1 => Just(ChunkOptions::default()), // framing disabled
        3 => fixed_options(),
        8 => header_options(),
    ]
}

fn framing_of(options: &ChunkOptions) -> Framing {
    options.framing().unwrap_or_else(|e| panic!("valid options {options:?} refused: {e:?}"))
}

// ---------------------------------------------------------------------------------------
// Streams

/// Random bytes, a third of them small: small length fields frame often and, when they
/// include the header, are often shorter than it (InvalidLength).
fn stream_byte() -> impl Strategy<Value = u8> {
    prop_oneof![2 => any::<u8>(), 1 => 0u8..=20]
}

fn random_stream(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(stream_byte(), 0..=max)
}

/// One frame of a "mostly valid" stream: its payload, and filler for the header bytes
/// around the length field.
#[derive(Debug, Clone)]
struct FrameSpec {
    payload: Vec<u8>,
    filler: u8,
}

fn frame_spec() -> impl Strategy<Value = FrameSpec> {
    let payload = prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..=40),
        1 => proptest::collection::vec(any::<u8>(), 0..=400),
    ];
    (payload, any::<u8>()).prop_map(|(payload, filler)| FrameSpec { payload, filler })
}

/// How a mostly valid stream ends.
#[derive(Debug, Clone)]
enum Tail {
    Clean,
    /// Random bytes after the last frame.
    Garbage(Vec<u8>),
    /// The stream cut short.
    Truncated(Index),
    /// One byte anywhere (often a length field) replaced.
    Corrupt(Index, u8),
}

fn tail() -> impl Strategy<Value = Tail> {
    prop_oneof![
        3 => Just(Tail::Clean),
        1 => proptest::collection::vec(stream_byte(), 1..=24).prop_map(Tail::Garbage),
        1 => any::<Index>().prop_map(Tail::Truncated),
        1 => (any::<Index>(), stream_byte()).prop_map(|(i, b)| Tail::Corrupt(i, b)),
    ]
}

/// Encodes `specs` as frames of `framing`. A payload longer than the length field can
/// declare is cut to fit; a payload over `max_length` is kept (the decoder must refuse it).
fn build_stream(framing: Framing, specs: &[FrameSpec], tail: &Tail) -> Vec<u8> {
    let mut stream = Vec::new();
    for spec in specs {
        match framing {
            Framing::None => stream.extend_from_slice(&spec.payload),
            Framing::Fixed { length } => {
                stream.extend((0..length).map(|i| spec.payload.get(i).copied().unwrap_or(spec.filler)));
            }
            Framing::Header { header_size, length_position, length_size, includes_header, .. } => {
                let field_max = (1u64 << (8 * length_size)) - 1;
                let extra = if includes_header { header_size as u64 } else { 0 };
                let payload_len = (spec.payload.len() as u64).min(field_max - extra) as usize;
                let declared = payload_len as u64 + extra;
                let mut header = vec![spec.filler; header_size];
                header[length_position..length_position + length_size]
                    .copy_from_slice(&declared.to_be_bytes()[8 - length_size..]);
                stream.extend_from_slice(&header);
                stream.extend_from_slice(&spec.payload[..payload_len]);
            }
        }
    }
    match tail {
        Tail::Clean => {}
        Tail::Garbage(bytes) => stream.extend_from_slice(bytes),
        Tail::Truncated(at) => {
            if !stream.is_empty() {
                stream.truncate(at.index(stream.len()));
            }
        }
        Tail::Corrupt(at, byte) => {
            if !stream.is_empty() {
                let i = at.index(stream.len());
                stream[i] = *byte;
            }
        }
    }
    stream
}

/// Where to cut a stream and after which pushes to take frames: mostly a few cuts,
/// sometimes many (down to single bytes).
#[derive(Debug, Clone)]
struct Chunking {
    cuts: Vec<Index>,
    drain: Vec<bool>,
}

fn chunking() -> impl Strategy<Value = Chunking> {
    let cuts = prop_oneof![
        3 => proptest::collection::vec(any::<Index>(), 0..=6),
        1 => proptest::collection::vec(any::<Index>(), 0..=200),
    ];
    // Usually frames are taken after every push (as a connection does); sometimes several
    // pushes pile up first.
    let drain = prop_oneof![
        3 => Just(vec![true]),
        1 => proptest::collection::vec(any::<bool>(), 1..=8),
    ];
    (cuts, drain).prop_map(|(cuts, drain)| Chunking { cuts, drain })
}

fn compare(framing: Framing, stream: &[u8], chunking: &Chunking) -> Result<(), TestCaseError> {
    let cuts: Vec<usize> = chunking.cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
    let chunks = split(stream, &cuts);
    let want = run_model(framing, &chunks, &chunking.drain);
    let got = run_decoder(framing, &chunks, &chunking.drain);
    prop_assert_eq!(
        got,
        want,
        "framing {:?}, chunk lengths {:?}",
        framing,
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Decoder against the model

proptest! {
    #[test]
    fn decoder_matches_model_on_mostly_valid_streams(
        options in valid_options(),
        specs in proptest::collection::vec(frame_spec(), 0..=8),
        tail in tail(),
        chunking in chunking(),
    ) {
        let framing = framing_of(&options);
        let stream = build_stream(framing, &specs, &tail);
        compare(framing, &stream, &chunking)?;
    }

    #[test]
    fn decoder_matches_model_on_random_bytes(
        options in valid_options(),
        stream in random_stream(300),
        chunking in chunking(),
    ) {
        compare(framing_of(&options), &stream, &chunking)?;
    }

    /// Length fields of one or two bytes make random bytes frame often; small limits make
    /// them fail often: the combinations where errors and frames interleave.
    #[test]
    fn decoder_matches_model_on_random_bytes_with_short_length_fields(
        header_size in 1i64..=4,
        length_size in prop_oneof![3 => Just(1i64), 1 => Just(2i64)],
        position in any::<Index>(),
        includes_header in any::<bool>(),
        max_extra in prop_oneof![Just(None), (0i64..=64).prop_map(Some), (64i64..=600).prop_map(Some)],
        stream in random_stream(300),
        chunking in chunking(),
    ) {
        let header_size = header_size.max(length_size);
        let options = ChunkOptions {
            enable: true,
            header_size,
            length_size,
            length_position: position.index((header_size - length_size + 1) as usize) as i64,
            includes_header,
            max_length: max_extra.map_or(0, |extra| header_size + extra),
            ..Default::default()
        };
        compare(framing_of(&options), &stream, &chunking)?;
    }
}

// ---------------------------------------------------------------------------------------
// ChunkOptions::framing()

/// Values around every boundary the validation has, and anything else.
fn interesting_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -2i64..=20,
        1 => prop_oneof![
            Just(i64::MIN), Just(i64::MIN + 1), Just(-65536), Just(i64::from(i32::MIN)),
            Just(65535), Just(65536), Just(65537), Just(i64::from(i32::MAX)),
            Just(i64::MAX - 4), Just(i64::MAX - 1), Just(i64::MAX),
        ],
        1 => any::<i64>(),
    ]
}

fn any_options() -> impl Strategy<Value = ChunkOptions> {
    (
        prop_oneof![1 => Just(false), 9 => Just(true)],
        prop_oneof![3 => Just(0i64), 1 => interesting_i64()],
        interesting_i64(),
        interesting_i64(),
        prop_oneof![interesting_i64(), Just(1i64), Just(2i64), Just(4i64)],
        any::<bool>(),
        prop_oneof![Just(0i64), interesting_i64()],
    )
        .prop_map(
            |(enable, fixed_length, header_size, length_position, length_size, includes_header, max_length)| {
                ChunkOptions {
                    enable,
                    fixed_length,
                    header_size,
                    length_position,
                    length_size,
                    includes_header,
                    max_length,
                }
            },
        )
}

/// One documented reason for refusing an option set.
#[derive(Debug, Clone)]
enum Violation {
    /// 0..=4: fixed_length, header_size, length_position, length_size, max_length.
    Negative(usize, i64),
    LengthSize(i64),
    /// The length field runs past the header: position = header - size + 1 + offset.
    FieldPastHeader(i64),
    /// The length field's position at i64::MAX - k: position + size does not fit in an i64.
    PositionNearMax(i64),
    HeaderSizeZero,
    HeaderSizeOver(i64),
    /// max_length in 1..header_size.
    MaxUnderHeader(Index),
    /// max_length in 1..fixed_length.
    FixedOverMax(i64, Index),
}

fn violation() -> impl Strategy<Value = Violation> {
    let negative = prop_oneof![Just(-1i64), Just(i64::MIN), i64::MIN..0];
    let past = prop_oneof![0i64..=10, Just(i64::MAX / 2), Just(i64::MAX - 100)];
    let over = prop_oneof![65537i64..=70000, Just(i64::MAX), 65537i64..=i64::MAX];
    prop_oneof![
        (0usize..5, negative).prop_map(|(field, v)| Violation::Negative(field, v)),
        prop_oneof![Just(0i64), Just(3i64), 5i64..=64, Just(8i64), Just(i64::MAX)].prop_map(Violation::LengthSize),
        past.prop_map(Violation::FieldPastHeader),
        (0i64..=4).prop_map(Violation::PositionNearMax),
        Just(Violation::HeaderSizeZero),
        over.prop_map(Violation::HeaderSizeOver),
        any::<Index>().prop_map(Violation::MaxUnderHeader),
        (2i64..=100_000, any::<Index>()).prop_map(|(n, i)| Violation::FixedOverMax(n, i)),
    ]
}

/// `options` (valid header options) made invalid by `violation`.
fn violate(mut o: ChunkOptions, violation: &Violation) -> ChunkOptions {
    match *violation {
        Violation::Negative(field, v) => {
            *[&mut o.fixed_length, &mut o.header_size, &mut o.length_position, &mut o.length_size, &mut o.max_length]
                [field] = v
        }
        Violation::LengthSize(size) => o.length_size = size,
        Violation::FieldPastHeader(offset) => {
            o.length_position = o.header_size - o.length_size + 1 + offset;
        }
        Violation::PositionNearMax(k) => o.length_position = i64::MAX - k,
        Violation::HeaderSizeZero => o.header_size = 0,
        Violation::HeaderSizeOver(size) => {
            o.header_size = size;
            o.max_length = 0;
        }
        Violation::MaxUnderHeader(i) => {
            if o.header_size < 2 {
                o.header_size = 2;
                o.length_position = 0;
                o.length_size = 1;
            }
            o.max_length = 1 + i.index((o.header_size - 1) as usize) as i64;
        }
        Violation::FixedOverMax(n, i) => {
            o.fixed_length = n;
            o.max_length = 1 + i.index((n - 1) as usize) as i64;
        }
    }
    o
}

proptest! {
    /// Any option set at all: `framing()` answers what the documented rules say (refusing
    /// with `InvalidArgument`), never panics, and what it accepts runs in the decoder, which
    /// agrees with the model.
    #[test]
    fn framing_follows_the_documented_rules_and_what_it_accepts_runs(
        options in any_options(),
        stream in random_stream(100),
        chunking in chunking(),
    ) {
        let got = options.framing();
        match expected_framing(&options) {
            None => prop_assert_eq!(got, Err(Error::InvalidArgument), "{:?}", options),
            Some(framing) => {
                prop_assert_eq!(got, Ok(framing), "{:?}", options);
                compare(framing, &stream, &chunking)?;
            }
        }
    }

    /// Each documented refusal, applied to an otherwise valid header option set.
    #[test]
    fn each_documented_refusal_holds(options in header_options(), violation in violation()) {
        prop_assert!(options.framing().is_ok());
        let bad = violate(options, &violation);
        prop_assert_eq!(bad.framing(), Err(Error::InvalidArgument), "{:?} from {:?}", bad, violation);
    }

    /// Every valid option set the generators build is accepted as the framing it states.
    #[test]
    fn valid_options_are_accepted_as_stated(options in valid_options()) {
        prop_assert_eq!(options.framing().ok(), expected_framing(&options));
        prop_assert!(options.framing().is_ok());
    }

    /// With framing disabled, nothing else is looked at.
    #[test]
    fn disabled_framing_ignores_every_other_field(options in any_options()) {
        let options = ChunkOptions { enable: false, ..options };
        prop_assert_eq!(options.framing(), Ok(Framing::None));
    }
}

// ---------------------------------------------------------------------------------------
// Regressions: inputs that once failed, as plain tests.

/// Found by `framing_follows_the_documented_rules_and_what_it_accepts_runs`: the check
/// `length_position + length_size <= header_size` overflowed for a position near i64::MAX.
/// Debug builds panicked in `framing()`; release builds wrapped, accepted the options, and the
/// decoder then panicked slicing the header at that position when the first byte arrived.
#[test]
fn regression_length_position_near_i64_max_is_refused() {
    for length_position in [i64::MAX, i64::MAX - 1, i64::MAX - 3] {
        for length_size in [1, 2, 4] {
            let options =
                ChunkOptions { enable: true, header_size: 1, length_position, length_size, ..Default::default() };
            assert_eq!(options.framing(), Err(Error::InvalidArgument), "{options:?}");
        }
    }
}

/// Every input in `tests/framing_fuzz_regressions/` (crashes the fuzz target found, copied
/// from its artifacts directory: see fuzz/README.md) goes through the fuzz target's checks
/// again, plus a few inputs written by hand in the fuzz target's input format.
#[test]
fn fuzz_regressions_replay() {
    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        // Header of 4 bytes, 4-byte length at 0, limit 4 + 16: a header declaring 4 GiB.
        ("4 GiB header".into(), [&[0x0a, 3, 2, 0, 0, 16, 0, 0][..], &[0xff; 4], b"payload"].concat()),
        // The same with the length including the header and declaring 3 (< 4).
        ("length under the header".into(), [&[0x2a, 3, 2, 0, 0, 16, 0, 0][..], &[0, 0, 0, 3], b"x"].concat()),
        // Fixed 8-byte frames, the stream cut every byte.
        ("fixed, one byte per push".into(), [&[0x01, 7, 0, 1, 1, 0][..], &[7; 37]].concat()),
        // Raw options with a length position of i64::MAX - 1 (the overflow found above).
        ("raw options, position near i64::MAX".into(), vec![0x00, 0, 1, 0x8e, 2, 0]),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/framing_fuzz_regressions");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                inputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    for (name, input) in inputs {
        if std::panic::catch_unwind(|| framing_fuzz::check(&input)).is_err() {
            panic!("fuzz regression {name} fails: {input:02x?}");
        }
    }
}
