//! Encryption of offsite copies with age (X25519): the host encrypts an
//! archive to the tenant's recipient while uploading it, and decrypts it
//! with the identity file while fetching it. The local archive is never
//! encrypted.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::x25519::{Identity, Recipient};

use super::OffsiteError;

/// The public key copies are encrypted to.
#[derive(Clone)]
pub struct EncryptTo(Recipient);

impl std::fmt::Debug for EncryptTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptTo({})", self.0)
    }
}

impl EncryptTo {
    /// Parses an age X25519 recipient, `age1…`.
    pub fn parse(text: &str) -> Result<EncryptTo, OffsiteError> {
        Recipient::from_str(text.trim())
            .map(EncryptTo)
            .map_err(|err| OffsiteError::Config(format!("{text:?} is not an age X25519 recipient (age1…): {err}")))
    }

    /// A writer that encrypts into `output`; its `finish` writes the last
    /// chunk.
    pub fn wrap<W: Write>(&self, output: W) -> Result<age::stream::StreamWriter<W>, OffsiteError> {
        let recipient: &dyn age::Recipient = &self.0;
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient))
            .map_err(|err| OffsiteError::Crypto(err.to_string()))?;
        encryptor.wrap_output(output).map_err(|err| OffsiteError::Crypto(err.to_string()))
    }
}

/// The file holding the secret keys that decrypt fetched copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFile(pub PathBuf);

impl IdentityFile {
    /// The X25519 identities (`AGE-SECRET-KEY-1…` lines) in the file.
    fn identities(&self) -> Result<Vec<Identity>, OffsiteError> {
        let path = &self.0;
        let file = std::fs::File::open(path)
            .map_err(|err| OffsiteError::Config(format!("cannot read the identity file {}: {err}", path.display())))?;
        let mut found = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|err| OffsiteError::Config(format!("cannot read {}: {err}", path.display())))?;
            let line = line.trim();
            if line.starts_with("AGE-SECRET-KEY-") {
                found.push(Identity::from_str(line).map_err(|err| {
                    OffsiteError::Config(format!("{} holds a key that is not valid: {err}", path.display()))
                })?);
            }
        }
        if found.is_empty() {
            return Err(OffsiteError::Config(format!("{} holds no AGE-SECRET-KEY-1… line", path.display())));
        }
        Ok(found)
    }

    /// A reader of the plaintext of the age file `input`.
    pub fn decrypt<R: Read>(&self, input: R) -> Result<impl Read, OffsiteError> {
        let identities = self.identities()?;
        let decryptor = age::Decryptor::new(input).map_err(|err| OffsiteError::Crypto(err.to_string()))?;
        decryptor
            .decrypt(identities.iter().map(|identity| identity as &dyn age::Identity))
            .map_err(|err| OffsiteError::Crypto(format!("cannot decrypt the offsite copy: {err}")))
    }

    /// The identity file at `path`.
    pub fn at(path: &Path) -> IdentityFile {
        IdentityFile(path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn copies_round_trip_and_need_the_right_key() {
        let dir = tempfile::tempdir().unwrap();
        let identity = Identity::generate();
        let key_file = dir.path().join("key.txt");
        std::fs::write(&key_file, format!("# a comment\n{}\n", identity.to_string().expose_secret())).unwrap();
        let to = EncryptTo::parse(&identity.to_public().to_string()).unwrap();
        let mut writer = to.wrap(Vec::new()).unwrap();
        writer.write_all(b"the archive").unwrap();
        let sealed = writer.finish().unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"the archive"));

        let mut plain = Vec::new();
        IdentityFile::at(&key_file).decrypt(&sealed[..]).unwrap().read_to_end(&mut plain).unwrap();
        assert_eq!(plain, b"the archive");

        let other = dir.path().join("other.txt");
        std::fs::write(&other, Identity::generate().to_string().expose_secret()).unwrap();
        assert!(IdentityFile::at(&other).decrypt(&sealed[..]).is_err());
        assert!(EncryptTo::parse("age1nope").is_err());
    }
}
