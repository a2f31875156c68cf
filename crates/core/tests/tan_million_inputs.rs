//! A deterministic soak over a million mixed inputs through every TAN parser. The count can be lowered with
//! `TAN_SOAK_INPUTS` for quick local runs; the default is 1,000,000.

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kontor_core::tan::{
    HhdVersion, bqr_payload, decode_chlguc_image, decode_data_uri, decode_matrix_container, decode_optical_data,
    decode_photo_base64, decode_rendered, flicker_frames, flicker_from_challenge, parse_challenge,
};

const DEFAULT_INPUTS: usize = 1_000_000;

const SEEDS: &[&str] = &[
    "0248A0120452019980812345678",
    "0388A01239230124622DE26123456780987654321",
    "0438701109374422DE2612345678098765432106100,00",
    "044 88 01 20932160 022 DE12500105170648489890 004 1,00",
    "2908881904551000000039990515,00",
    "070A208290199872IE99BOFI",
    "0078301100",
    "CHLGUC  00312908881696281098765432100532,00CHLGTEXT0025Bitte Auftrag bestätigen",
    "0D85012045201998041234567855",
    "11048813833205002812775114302C30315D",
    "1F85012392301246564445323631323334353637383039383736353433323175",
    "CHLGUC 0012iVBORw0KGgo=CHLGTEXT0005Hallo",
    "data:image/png;base64,iVBORw0KGgo=",
    "AAlpbWFnZS9wbmcAX4lQTkcNChoKAAAADUlIRFIAAAABAAAAAQEDAAAAJdtWygAAAANQTFRF/00AXDU4fwAAAAF0Uk5TAEDm2GYAAAAKSURBVHicY2IAAAAGAAM2N3yoAAAAAElFTkSuQmCC",
];

const NEAR_ALPHABET: &[u8] = b"0123456789ABCDEFabcdef ,.8CHLGUTEX=+/";

/// xorshift64*: deterministic, so a failure can be replayed.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    fn random_text(&mut self, max_length: usize) -> String {
        let length = self.below(max_length + 1);
        (0..length)
            .map(|_| match self.below(10) {
                0 => char::from_u32(self.below(0x1_0000) as u32).unwrap_or('?'),
                1 => char::from(self.below(256) as u8),
                _ => char::from(0x20 + self.below(95) as u8),
            })
            .collect()
    }

    fn near_text(&mut self, max_length: usize) -> String {
        let length = self.below(max_length + 1);
        (0..length).map(|_| char::from(self.pick(NEAR_ALPHABET).copied().unwrap_or(b'0'))).collect()
    }

    fn mutate(&mut self, seed: &str) -> String {
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..=self.below(3) {
            let at = self.below(chars.len() + 1);
            let replacement = char::from(self.pick(NEAR_ALPHABET).copied().unwrap_or(b'0'));
            match self.below(4) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 => chars.insert(at, replacement),
                2 => chars.truncate(at),
                _ => {
                    if let Some(slot) = chars.get_mut(at) {
                        *slot = replacement;
                    }
                }
            }
        }
        chars.into_iter().collect()
    }

    fn input(&mut self) -> (String, Vec<u8>) {
        let text = match self.below(8) {
            0 | 1 => self.random_text(60),
            2 | 3 => self.near_text(70),
            4..=6 => {
                let seed = self.pick(SEEDS).copied().unwrap_or_default();
                self.mutate(seed)
            }
            _ => {
                let bytes: Vec<u8> = (0..self.below(120)).map(|_| self.below(256) as u8).collect();
                STANDARD.encode(bytes)
            }
        };
        let mut bytes: Vec<u8> = (0..self.below(64)).map(|_| self.below(256) as u8).collect();
        if self.below(2) == 0 {
            bytes.splice(0..0, [0, 9].iter().chain(b"image/png").copied());
        }
        (text, bytes)
    }
}

#[test]
fn tan_million_inputs() {
    let count = std::env::var("TAN_SOAK_INPUTS").ok().and_then(|value| value.parse().ok()).unwrap_or(DEFAULT_INPUTS);
    let mut generator = Generator(0x9E37_79B9_7F4A_7C15);
    let hints = [None, Some(HhdVersion::Hhd13), Some(HhdVersion::Hhd14)];
    let started = Instant::now();
    let mut flicker_accepted = 0usize;
    let mut photo_accepted = 0usize;
    for index in 0..count {
        let (text, bytes) = generator.input();
        let hint = hints.get(index % hints.len()).copied().flatten();
        let _ = parse_challenge(&text, hint);
        for code in [flicker_from_challenge(&text, hint), decode_optical_data(&text, hint), decode_rendered(&text)]
            .into_iter()
            .flatten()
        {
            flicker_accepted += 1;
            assert!(decode_rendered(&code.render_hex).is_ok(), "input {index} {text:?} rendered to an invalid code");
            assert!(bqr_payload(&code.render_hex).is_ok());
        }
        let _ = flicker_frames(&text);
        let _ = bqr_payload(&text);
        for photo in [
            decode_photo_base64(&text, None),
            decode_data_uri(&text),
            decode_chlguc_image(&text),
            decode_matrix_container(&bytes),
        ]
        .into_iter()
        .flatten()
        {
            photo_accepted += 1;
            assert!(!photo.image.is_empty());
        }
    }
    let elapsed = started.elapsed();
    println!(
        "tan_million_inputs: {count} inputs through every parser in {:.2} s ({flicker_accepted} flicker and \
         {photo_accepted} photo results accepted)",
        elapsed.as_secs_f64()
    );
    assert!(
        count == 0 || flicker_accepted > 0,
        "the generator never produced a valid code; it is not exercising the parsers"
    );
}
