from tasks import docs, schema


def test_data_dictionary_is_current():
    committed = docs.OUT.read_text("utf-8")
    assert committed == docs.render(), "docs/data-dictionary.md is stale: run `python -m tasks.docs` and commit it"


def test_every_column_of_every_dataset_is_documented():
    page = docs.render()
    for name, sch in schema.DATASETS.items():
        assert f"### `{name}/`" in page
        for field in sch:
            row = next(line for line in page.splitlines() if line.startswith(f"| `{field.name}` |"))
            assert row.rstrip(" |").split("|")[-1].strip(), f"{name}.{field.name} has no description"
