//! The keys a tenant is found by: slug, custom domain and id.
//!
//! Each key type can only be built valid, so a [`Lookup`] that reaches the store or the cache
//! has already passed the database's own rules: invalid input never costs an upstream request.

use std::fmt;

use tenant_common::{Host, Slug, TenantId};

/// One way of finding a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lookup {
    Slug(Slug),
    Domain(Host),
    Id(TenantId),
}

impl Lookup {
    /// The slug, id or hostname this lookup names.
    pub fn value(&self) -> &str {
        match self {
            Lookup::Slug(s) => s.as_str(),
            Lookup::Domain(d) => d.as_str(),
            Lookup::Id(i) => i.as_str(),
        }
    }
}

impl fmt::Display for Lookup {
    /// A stable name such as `slug:acme`, used as the cache key and in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Lookup::Slug(_) => "slug",
            Lookup::Domain(_) => "domain",
            Lookup::Id(_) => "id",
        };
        write!(f, "{kind}:{}", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_its_key() {
        let l = Lookup::Slug(Slug::parse("acme").unwrap());
        assert_eq!((l.value(), l.to_string().as_str()), ("acme", "slug:acme"));
    }
}
