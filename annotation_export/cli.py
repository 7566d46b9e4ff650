from blindpairs.placeholder import not_implemented

COMMANDS = [
    not_implemented("export", "export candidate pairs for annotation (Label Studio)", "issue 5"),
    not_implemented("ingest", "ingest finished annotations and publish the benchmark", "issue 5"),
]
