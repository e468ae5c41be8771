//! Pieces of the API's OpenAPI schemas that are read off the code rather than derived: a
//! field whose values are the codes of a list (`domain::codes!` enumerations, the geocoder's
//! confidence), so the document lists exactly the codes the program accepts and answers.

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Object, RefOr, Schema};

/// A string among `codes`, described in French.
pub fn codes<I, V>(codes: I, description: &str) -> Object
where
    I: IntoIterator<Item = V>,
    V: Into<serde_json::Value>,
{
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .description(Some(description))
        .build()
}

/// A string among `codes`, or null (read as absent).
pub fn optional_codes<I, V>(codes: I, description: &str) -> Object
where
    I: IntoIterator<Item = V>,
    V: Into<serde_json::Value>,
{
    let values = codes
        .into_iter()
        .map(Into::into)
        .chain([serde_json::Value::Null]);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// An array of strings among `codes`, at least `min_items` of them.
pub fn code_list<I, V>(
    codes: I,
    min_items: usize,
    description: &str,
) -> utoipa::openapi::schema::Array
where
    I: IntoIterator<Item = V>,
    V: Into<serde_json::Value>,
{
    let item: RefOr<Schema> = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .into();
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(item)
        .min_items((min_items > 0).then_some(min_items))
        .description(Some(description))
        .build()
}
