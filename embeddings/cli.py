from blindpairs.placeholder import not_implemented

COMMANDS = [not_implemented("embed", "embed tiles with CLIP and DINOv2", "issue 3")]
