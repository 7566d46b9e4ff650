from blindpairs.placeholder import not_implemented

COMMANDS = [
    not_implemented("evaluate", "score MLLMs on the benchmark (MMVP pair accuracy)", "issue 6"),
    not_implemented("report", "render the static HTML report", "issue 7"),
]
