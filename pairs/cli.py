from blindpairs.placeholder import not_implemented

COMMANDS = [not_implemented("mine", "mine CLIP-blind pairs with FAISS", "issue 4")]
