//! Tests of the event writer, reader and projector files.

use super::*;

/// The wall time of every event in the golden file.
const GOLDEN_WALL_TIME: f64 = 1_700_000_000.25;
/// The golden file, embedded at compile time.
const GOLDEN: &[u8] = include_bytes!("../../tests/data/golden.tfevents");
/// The learning rates of the golden file, steps 0 to 3 (a warm-up starting at 0).
const GOLDEN_LR: [f64; 4] = [0.0, 0.0005, 0.001, 0.001];
/// The text logged under `config` in the golden file.
const GOLDEN_TEXT: &str = "model = \"word2vec\"\ndim = 100\nname = \"café\"";

/// The loss of the golden file at `step`.
fn golden_loss(step: u64) -> f64 {
    2.5 / (step as f64 + 1.0)
}

/// The values of the golden histogram: deterministic arithmetic only (no libm), so the
/// bytes are the same on every platform.
fn golden_histogram_values() -> Vec<f32> {
    (0..100u16)
        .map(|i| f32::from(i * i) / 1000.0 - 2.0)
        .collect()
}

/// Writes the golden sequence: scalars train/loss and train/lr at steps 0..=3, the text
/// `config` at step 0 and the histogram `weights` at step 3.
fn write_golden_sequence(writer: &mut EventWriter) -> io::Result<()> {
    for step in 0..4u64 {
        writer.scalar("train/loss", step, golden_loss(step))?;
        writer.scalar("train/lr", step, GOLDEN_LR[step as usize])?;
        if step == 0 {
            writer.text("config", 0, GOLDEN_TEXT)?;
        }
    }
    writer.histogram("weights", 3, &golden_histogram_values())
}

/// The bytes of the golden sequence written with the fixed wall time.
fn golden_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut writer =
        EventWriter::create_with_clock(dir.path(), "golden.tfevents", || GOLDEN_WALL_TIME).unwrap();
    write_golden_sequence(&mut writer).unwrap();
    let path = writer.path().to_owned();
    writer.close().unwrap();
    fs::read(path).unwrap()
}

/// (tag, step, scalar) of every scalar value in `events`.
fn scalars(events: &[Event]) -> Vec<(String, i64, f32)> {
    events
        .iter()
        .flat_map(|e| {
            e.summary_values()
                .iter()
                .filter_map(move |v| Some((v.tag.clone(), e.step, v.simple_value()?)))
        })
        .collect()
}

/// Byte offset where the second record of an event file starts.
fn second_record_offset(bytes: &[u8]) -> usize {
    let mut length = [0u8; 8];
    length.copy_from_slice(&bytes[..8]);
    12 + usize::try_from(u64::from_le_bytes(length)).unwrap() + 4
}

#[test]
fn masked_crc_matches_tensorboard() {
    // Values from tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c.
    assert_eq!(masked_crc32c(b""), 0xa282_ead8);
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
}

#[test]
fn scalars_text_and_histogram_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    writer.scalar("train/loss", 0, 1.5).unwrap();
    writer.scalar("train/loss", 10, 0.25).unwrap();
    writer.scalar("train/lr", 10, 0.0).unwrap();
    writer.text("notes", 10, "**bold** é").unwrap();
    writer.histogram("w", 20, &[1.0, 2.0, 3.0, 4.0]).unwrap();
    let path = writer.path().to_owned();
    writer.close().unwrap();

    let events = read_events(&path).unwrap();
    assert_eq!(events.len(), 6);
    assert_eq!(
        events[0].what,
        Some(EventWhat::FileVersion("brain.Event:2".to_owned()))
    );
    let now = system_clock();
    assert!(events.iter().all(|e| (now - e.wall_time).abs() < 600.0));
    assert_eq!(
        scalars(&events),
        [
            ("train/loss".to_owned(), 0, 1.5),
            ("train/loss".to_owned(), 10, 0.25),
            ("train/lr".to_owned(), 10, 0.0),
        ]
    );
    let text = &events[4].summary_values()[0];
    assert_eq!((text.tag.as_str(), events[4].step), ("notes", 10));
    assert_eq!(text.text(), Some("**bold** é"));
    let histo = events[5].summary_values()[0].histo().unwrap();
    assert_eq!(events[5].step, 20);
    assert_eq!((histo.min, histo.max, histo.num), (1.0, 4.0, 4.0));
    assert_eq!((histo.sum, histo.sum_squares), (10.0, 30.0));
}

#[test]
fn zero_scalar_is_encoded() {
    // As a plain proto3 float, 0.0 would be skipped and TensorBoard would drop the value.
    let value = SummaryValue {
        tag: "x".to_owned(),
        value: Some(ValueKind::SimpleValue(0.0)),
        metadata: None,
    };
    assert_eq!(value.encode_to_vec(), [0x0a, 1, b'x', 0x15, 0, 0, 0, 0]);
}

#[test]
fn text_value_matches_tensorboard_text_pb() {
    // tensorboard 2.21.0: summary_v2.text_pb("config", "hello").value[0].SerializeToString()
    let expected = "0a06636f6e666967420b08071200420568656c6c6f4a080a060a0474657874";
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create_with_clock(dir.path(), "t.tfevents", || 0.0).unwrap();
    writer.text("config", 0, "hello").unwrap();
    let path = writer.path().to_owned();
    writer.close().unwrap();
    let events = read_events(&path).unwrap();
    let bytes = events[1].summary_values()[0].encode_to_vec();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);
}

#[test]
fn histogram_buckets_are_equal_width_and_count_every_value() {
    let values: Vec<f32> = (0..=100u8).map(|i| f32::from(i) / 10.0).collect();
    let h = HistogramProto::from_values(&values, 10).unwrap();
    assert_eq!((h.min, h.max, h.num), (0.0, 10.0, 101.0));
    assert_eq!(h.bucket_limit.len(), 10);
    assert_eq!(h.bucket.len(), 10);
    assert_eq!(h.bucket.iter().sum::<f64>(), 101.0);
    assert_eq!(h.bucket_limit[9], 10.0);
    assert!((h.bucket_limit[0] - 1.0).abs() < 1e-12);
    assert!(h.bucket_limit.windows(2).all(|w| w[0] < w[1]));
    // 0.0..0.9 in the first bucket; 10.0 (the max) joins the last one.
    assert_eq!(h.bucket[0], 10.0);
    assert_eq!(h.bucket[9], 11.0);
    let expected_sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
    assert_eq!(h.sum, expected_sum);
}

#[test]
fn histogram_edge_cases() {
    let same = HistogramProto::from_values(&[2.5; 7], 30).unwrap();
    assert_eq!((same.bucket_limit, same.bucket), (vec![2.5], vec![7.0]));
    let with_nan = HistogramProto::from_values(&[f32::NAN, 1.0, f32::INFINITY, 3.0], 2);
    let with_nan = with_nan.unwrap();
    assert_eq!((with_nan.num, with_nan.min, with_nan.max), (2.0, 1.0, 3.0));
    assert_eq!(with_nan.bucket, [1.0, 1.0]);
    assert_eq!(HistogramProto::from_values(&[], 30), None);
    assert_eq!(HistogramProto::from_values(&[f32::NAN], 30), None);
    assert_eq!(HistogramProto::from_values(&[1.0], 0), None);

    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    let err = writer.histogram("w", 0, &[f32::NAN]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let err = writer.scalar("x", u64::MAX, 1.0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let path = writer.path().to_owned();
    writer.close().unwrap();
    assert_eq!(
        read_events(&path).unwrap().len(),
        1,
        "only the file version"
    );
}

#[test]
fn flipped_byte_is_a_crc_error_naming_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.tfevents");
    fs::write(&path, golden_bytes()).unwrap();
    let good = fs::read(&path).unwrap();
    let second = second_record_offset(&good);
    let cases = [
        (second + 3, RecordPart::Length),    // inside the length
        (second + 9, RecordPart::Length),    // inside the length's CRC
        (second + 14, RecordPart::Data),     // inside the data
        (second + 12 + 1, RecordPart::Data), // data's first bytes
    ];
    for (index, part) in cases {
        let mut bad = good.clone();
        bad[index] ^= 0x01;
        fs::write(&path, &bad).unwrap();
        let err = read_events(&path).unwrap_err();
        match &err {
            ReadError::Crc {
                offset, part: p, ..
            } => assert_eq!((*offset, *p), (second as u64, part), "byte {index}"),
            other => panic!("byte {index}: expected a CRC error, got {other}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(&format!("byte offset {second}")),
            "{message}"
        );
        assert!(message.contains("f.tfevents"), "{message}");
    }
    // The data CRC itself, at the end of the second record.
    let mut length = [0u8; 8];
    length.copy_from_slice(&good[second..second + 8]);
    let crc_at = second + 12 + usize::try_from(u64::from_le_bytes(length)).unwrap();
    let mut bad = good.clone();
    bad[crc_at] ^= 0x80;
    fs::write(&path, &bad).unwrap();
    assert!(matches!(
        read_events(&path),
        Err(ReadError::Crc { part: RecordPart::Data, offset, .. }) if offset == second as u64
    ));
}

#[test]
fn truncated_file_is_an_error_naming_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tfevents");
    let good = golden_bytes();
    let second = second_record_offset(&good);
    for cut in [second + 5, second + 12, second + 20, good.len() - 1] {
        fs::write(&path, &good[..cut]).unwrap();
        let err = read_events(&path).unwrap_err();
        let ReadError::Truncated {
            offset,
            expected,
            found,
            ..
        } = &err
        else {
            panic!("cut at {cut}: expected truncation, got {err}");
        };
        assert!(*offset as usize <= cut && found < expected, "{err}");
        assert_eq!(*offset as usize + *found as usize, cut, "{err}");
        assert!(err.to_string().contains("byte offset"), "{err}");
    }
    fs::write(&path, b"").unwrap();
    assert!(read_events(&path).unwrap().is_empty());
    let missing = dir.path().join("missing.tfevents");
    let err = read_events(&missing).unwrap_err();
    assert!(matches!(err, ReadError::Io { .. }));
    assert!(err.to_string().contains("missing.tfevents"), "{err}");
}

#[test]
fn create_names_the_file_like_tensorflow_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("runs").join("a");
    let first = EventWriter::create(&logdir).unwrap();
    let second = EventWriter::create(&logdir).unwrap();
    assert_ne!(first.path(), second.path());
    let name = first
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = name.splitn(4, '.').collect();
    assert_eq!(&parts[..3], ["events", "out", "tfevents"]);
    let (seconds, rest) = parts[3].split_once('.').unwrap();
    let seconds: f64 = seconds.parse().unwrap();
    assert!((system_clock() - seconds).abs() < 600.0, "{name}");
    let pid = format!(".{}", std::process::id());
    assert!(rest.ends_with(&pid), "{name}");
    assert_eq!(rest.strip_suffix(&pid).unwrap(), hostname());
    let (first_path, second_path) = (first.path().to_owned(), second.path().to_owned());
    drop((first, second));
    for path in [first_path, second_path] {
        assert_eq!(read_events(&path).unwrap().len(), 1, "{}", path.display());
    }
}

#[test]
fn create_with_clock_rejects_names_tensorboard_ignores() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["events.log", "sub/x.tfevents"] {
        let err = EventWriter::create_with_clock(dir.path(), name, || 0.0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn flush_makes_events_visible_while_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EventWriter::create_with_clock(dir.path(), "x.tfevents", || 1.0).unwrap();
    writer.scalar("loss", 7, 3.0).unwrap();
    writer.flush().unwrap();
    let events = read_events(writer.path()).unwrap();
    assert_eq!(scalars(&events), [("loss".to_owned(), 7, 3.0)]);
    writer.scalar("loss", 8, 2.0).unwrap();
    let path = writer.path().to_owned();
    drop(writer);
    assert_eq!(read_events(&path).unwrap().len(), 3, "drop flushes");
}

#[test]
fn projector_files_have_the_expected_content() {
    let dir = tempfile::tempdir().unwrap();
    let labels = ["the", "tab\there", "two\nlines", "", " ", "café"];
    let vectors: Vec<f32> = (0..12u8).map(|i| f32::from(i) * 0.5 - 1.0).collect();
    write_projector(dir.path(), "words", &labels, &vectors, 2).unwrap();
    let tensors = fs::read_to_string(dir.path().join("words/tensors.tsv")).unwrap();
    assert_eq!(
        tensors,
        "-1\t-0.5\n0\t0.5\n1\t1.5\n2\t2.5\n3\t3.5\n4\t4.5\n"
    );
    let metadata = fs::read_to_string(dir.path().join("words/metadata.tsv")).unwrap();
    assert_eq!(
        metadata,
        "the\ntab\\there\ntwo\\nlines\n\"\"\n\" \"\ncafé\n"
    );
    assert!(
        metadata
            .lines()
            .all(|l| !l.trim().is_empty() && !l.contains('\t'))
    );
    let config = fs::read_to_string(dir.path().join("projector_config.pbtxt")).unwrap();
    assert_eq!(
        config,
        "embeddings {\n  tensor_name: \"words\"\n  tensor_path: \"words/tensors.tsv\"\n  \
         metadata_path: \"words/metadata.tsv\"\n}\n"
    );
    let mut names: Vec<_> = fs::read_dir(dir.path().join("words"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["metadata.tsv", "tensors.tsv"],
        "no temporary files left"
    );
}

#[test]
fn projector_config_lists_every_embedding() {
    let dir = tempfile::tempdir().unwrap();
    write_projector(dir.path(), "output", &["a"], &[1.0, 2.0], 2).unwrap();
    write_projector(dir.path(), "input", &["a", "b"], &[1.0, 2.0, 3.0, 4.0], 2).unwrap();
    fs::create_dir(dir.path().join("not-an-embedding")).unwrap();
    let config = fs::read_to_string(dir.path().join("projector_config.pbtxt")).unwrap();
    let names: Vec<&str> = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tensor_name: "))
        .collect();
    assert_eq!(names, ["\"input\"", "\"output\""]);
}

#[test]
fn projector_rejects_inconsistent_input() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[f32], usize); 5] = [
        ("words", &["a", "b"], &[1.0, 2.0, 3.0], 2),
        ("words", &["a"], &[], 0),
        ("words", &[], &[], 2),
        ("../escape", &["a"], &[1.0], 1),
        (".hidden", &["a"], &[1.0], 1),
    ];
    for (name, labels, vectors, dim) in cases {
        let err = write_projector(dir.path(), name, labels, vectors, dim).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name} {dim}");
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Compares the golden sequence with `tests/data/golden.tfevents`; with
/// `REGENERATE_GOLDEN=1` rewrites that file instead (then rerun the tests).
#[test]
fn golden_file_matches() {
    let bytes = golden_bytes();
    if std::env::var_os("REGENERATE_GOLDEN").is_some_and(|v| v == "1") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden.tfevents");
        fs::write(&path, &bytes).unwrap();
        assert_eq!(fs::read(&path).unwrap(), bytes);
        eprintln!("rewrote {}; rerun the tests to compare", path.display());
        return;
    }
    assert!(
        GOLDEN == bytes.as_slice(),
        "the event file format changed; if intended, regenerate with REGENERATE_GOLDEN=1 \
         (see the module docs) and rerun scripts/check-tensorboard.sh"
    );
}

#[test]
fn golden_file_decodes_to_the_expected_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("golden.tfevents");
    fs::write(&path, GOLDEN).unwrap();
    let events = read_events(&path).unwrap();
    assert_eq!(events.len(), 11);
    assert!(events.iter().all(|e| e.wall_time == GOLDEN_WALL_TIME));
    let mut expected = Vec::new();
    for step in 0..4u64 {
        let i = step as i64;
        expected.push(("train/loss".to_owned(), i, golden_loss(step) as f32));
        expected.push(("train/lr".to_owned(), i, GOLDEN_LR[step as usize] as f32));
    }
    assert_eq!(scalars(&events), expected);
    let texts: Vec<_> = events
        .iter()
        .flat_map(|e| e.summary_values().iter().map(move |v| (e.step, v)))
        .filter_map(|(step, v)| Some((step, v.tag.as_str(), v.text()?)))
        .collect();
    assert_eq!(texts, [(0, "config", GOLDEN_TEXT)]);
    let last = events.last().unwrap();
    let histo = last.summary_values()[0].histo().unwrap();
    assert_eq!(
        (last.step, last.summary_values()[0].tag.as_str()),
        (3, "weights")
    );
    assert_eq!((histo.num, histo.min), (100.0, -2.0));
    assert!((histo.max - 7.801).abs() < 1e-6);
    assert_eq!(histo.bucket.len(), DEFAULT_HISTOGRAM_BUCKETS);
    assert_eq!(histo.bucket.iter().sum::<f64>(), 100.0);
}

/// Writes a sample run (events and an embedding) into `$TB_SAMPLE_LOGDIR`, for
/// `scripts/check-tensorboard.sh $TB_SAMPLE_LOGDIR`.
#[test]
#[ignore = "writes into $TB_SAMPLE_LOGDIR for scripts/check-tensorboard.sh"]
fn write_sample_logdir() {
    let logdir = PathBuf::from(std::env::var_os("TB_SAMPLE_LOGDIR").unwrap());
    let mut writer = EventWriter::create(&logdir).unwrap();
    write_golden_sequence(&mut writer).unwrap();
    let path = writer.path().to_owned();
    writer.close().unwrap();
    let labels = ["the", "of", "tab\there", ""];
    let vectors: Vec<f32> = (0..12u8).map(|i| f32::from(i) / 4.0).collect();
    write_projector(&logdir, "words", &labels, &vectors, 3).unwrap();
    assert_eq!(read_events(&path).unwrap().len(), 11);
}
