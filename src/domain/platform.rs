//! The messengers encore talks on.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Telegram,
    Discord,
    /// The built-in local chat emulator used by `encore demo`.
    Emulator,
    /// KakaoTalk 알림톡 through a dealer (CONTRACT §11): reaches a customer by phone number,
    /// one way, transactional notes only.
    Kakao,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::Emulator => "emulator",
            Platform::Kakao => "kakao",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "telegram" => Ok(Platform::Telegram),
            "discord" => Ok(Platform::Discord),
            "emulator" => Ok(Platform::Emulator),
            "kakao" => Ok(Platform::Kakao),
            other => Err(format!("unknown platform `{other}`")),
        }
    }
}
