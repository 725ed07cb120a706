//! A small command-line parser: `--name value`, `--name=value` and boolean `--flag`s. Every
//! option given must be used by the subcommand, so a misspelt option is an error, not a
//! silently ignored one.

use std::collections::BTreeMap;
use std::str::FromStr;

pub struct Args {
    values: BTreeMap<String, String>,
    flags: Vec<String>,
    used: std::cell::RefCell<Vec<String>>,
}

impl Args {
    /// Parses `argv` (without the program and subcommand names); `flags` lists the options
    /// that take no value.
    pub fn parse(argv: &[String], flags: &[&str]) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut given_flags = Vec::new();
        let mut i = 0;
        while i < argv.len() {
            let arg = &argv[i];
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument '{arg}'"));
            };
            if let Some((n, v)) = name.split_once('=') {
                values.insert(n.to_string(), v.to_string());
            } else if flags.contains(&name) {
                given_flags.push(name.to_string());
            } else {
                let Some(v) = argv.get(i + 1) else {
                    return Err(format!("--{name} needs a value"));
                };
                values.insert(name.to_string(), v.clone());
                i += 1;
            }
            i += 1;
        }
        Ok(Args {
            values,
            flags: given_flags,
            used: Default::default(),
        })
    }

    fn mark(&self, name: &str) {
        self.used.borrow_mut().push(name.to_string());
    }

    pub fn flag(&self, name: &str) -> bool {
        self.mark(name);
        self.flags.iter().any(|f| f == name)
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.mark(name);
        self.values.get(name).cloned()
    }

    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.str(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: bad value '{v}'")),
        }
    }

    pub fn opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("--{name}: bad value '{v}'")),
        }
    }

    /// Fails on any option the subcommand did not ask for.
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        for name in self.values.keys().chain(self.flags.iter()) {
            if !used.iter().any(|u| u == name) {
                return Err(format!("unknown option --{name}"));
            }
        }
        Ok(())
    }
}
