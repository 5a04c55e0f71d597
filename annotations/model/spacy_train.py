"""placeholder during development"""
def train_spacy(*a, **k):
    raise NotImplementedError
