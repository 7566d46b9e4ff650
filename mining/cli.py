from blindpairs.placeholder import not_implemented

COMMANDS = [not_implemented("tile", "tile scenes into GeoParquet tiles", "issue 2")]
