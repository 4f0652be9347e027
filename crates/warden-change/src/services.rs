//! The services of each changed file, from the path globs of the service catalogue
//! (`services.<name>.paths`).

use globset::{GlobBuilder, GlobSetBuilder};

use crate::load::{InputError, key_path, quote_str};
use crate::model::Change;

impl Change {
    /// Adds to each file's `services` every catalogued service one of whose `paths`
    /// globs matches the file's path or its previous path (a file moved out of a
    /// service still concerns it), keeping the services the producer gave; when the
    /// catalogue has paths, every file's services are sorted, without duplicates. Globs mean what they mean in a policy (`*` within a path
    /// segment, `**` across them). Call it after merging the facts; an invalid glob is
    /// an error, and then nothing is assigned.
    pub fn assign_services(&mut self) -> Vec<InputError> {
        let mut builder = GlobSetBuilder::new();
        let mut service_of_glob = Vec::new();
        let mut errors = Vec::new();
        for (name, service) in &self.services {
            for (index, pattern) in service.paths.iter().enumerate() {
                let glob = GlobBuilder::new(pattern).literal_separator(true).build();
                match glob {
                    Ok(glob) => {
                        builder.add(glob);
                        service_of_glob.push(name.clone());
                    }
                    Err(error) => errors.push(InputError::at(
                        format!("{}.paths[{index}]", key_path("$.services", name)),
                        format!(
                            "{} is not a valid glob: {}",
                            quote_str(pattern),
                            error.kind()
                        ),
                    )),
                }
            }
        }
        if !errors.is_empty() || service_of_glob.is_empty() {
            return errors;
        }
        let globs = match builder.build() {
            Ok(globs) => globs,
            Err(error) => {
                return vec![InputError::at(
                    "$.services",
                    format!("the service path globs cannot be compiled: {error}"),
                )];
            }
        };
        let mut matches = Vec::new();
        for file in self.files.iter_mut() {
            for path in std::iter::once(&file.path).chain(&file.previous_path) {
                globs.matches_into(path, &mut matches);
                file.services
                    .extend(matches.iter().map(|&glob| service_of_glob[glob].clone()));
            }
            file.services.sort();
            file.services.dedup();
        }
        Vec::new()
    }
}
