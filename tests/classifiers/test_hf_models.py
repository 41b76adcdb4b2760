"""Configured Hugging Face models, loaded through the same path a user's model takes, on tiny
models the tests create and save locally (nothing here can download from a hub)."""

from __future__ import annotations

import pytest

from classifiers.errors import ModelError
from classifiers.hf import HFSentiment, ZeroShotTopics, label_map, map_label

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "flashlight", "burned", "my",
         "hand", "this", "text", "is", "about", "injury", "love", "it", "shipping", "."]


def tiny_model(path, id2label: dict[int, str], favour: int):
    """A 2-layer BERT classifier whose bias makes class `favour` win for any input."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tok = BertTokenizerFast(vocab_file=str(path / "vocab.txt"))
    cfg = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                     num_labels=len(id2label), id2label=id2label,
                     label2id={v: k for k, v in id2label.items()})
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.fill_(-5.0)
        model.classifier.bias[favour] = 5.0
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


@pytest.mark.parametrize("name, expected", [
    ("NEGATIVE", "negative"), ("Neg", "negative"), ("neutral", "neutral"), ("POS", "positive"),
    ("1 star", "negative"), ("2 stars", "negative"), ("3 stars", "neutral"),
    ("5 stars", "positive"), ("LABEL_0", None),
])
def test_label_names_in_any_spelling(name, expected):
    assert map_label(name, 3) == expected


def test_unreadable_labels_say_how_to_map_them():
    with pytest.raises(ModelError) as info:
        label_map({0: "LABEL_0", 1: "LABEL_1"})
    assert str(info.value) == ("cannot tell what the labels LABEL_0, LABEL_1 mean; map them in "
                               "classifier.sentiment.labels (e.g. LABEL_0: negative)")
    assert label_map({0: "LABEL_0", 1: "LABEL_1"},
                     {"LABEL_0": "negative", "LABEL_1": "positive"}) == ["negative", "positive"]


@pytest.mark.parametrize("id2label, favour, expected", [
    ({0: "negative", 1: "neutral", 2: "positive"}, 0, "negative"),
    ({0: "NEG", 1: "POS"}, 1, "positive"),                          # two classes
    ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, 3, "positive"),
])
def test_a_configured_sentiment_model_is_loaded_and_its_labels_mapped(tmp_path, id2label,
                                                                        favour, expected):
    model = HFSentiment(tiny_model(tmp_path / "m", id2label, favour))
    (label, score), = model.predict(["the flashlight burned my hand"])
    assert label == expected and score > 0.9
    assert model.version == f"hf:{tmp_path / 'm'}"
    assert [lab for lab, _ in model.predict(["", "love it", "the"])] == [expected] * 3


def test_stars_of_the_same_sentiment_add_up(tmp_path):
    labels = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}
    import torch
    path = tiny_model(tmp_path / "m", labels, 0)
    from transformers import AutoModelForSequenceClassification
    m = AutoModelForSequenceClassification.from_pretrained(path)
    with torch.no_grad():                      # 1 and 2 stars equally likely, 45% each
        m.classifier.bias.copy_(torch.tensor([2.0, 2.0, -0.2, -9.0, -9.0]))
    m.save_pretrained(path)
    (label, score), = HFSentiment(path).predict(["love it"])
    assert label == "negative" and score > 0.9  # neither star alone is above 0.5


def test_a_model_that_cannot_be_loaded_is_named_with_the_reason(tmp_path):
    with pytest.raises(ModelError) as info:
        HFSentiment(str(tmp_path / "no-such-model"))
    assert str(info.value).startswith(f"cannot load the model '{tmp_path / 'no-such-model'}': ")


def test_zero_shot_topics_with_a_tiny_nli_model(tmp_path):
    nli = ZeroShotTopics(tiny_model(tmp_path / "nli", {0: "entailment", 1: "neutral",
                                                       2: "contradiction"}, 0))
    scores = nli.scores(["the flashlight burned my hand", "love it"], ["injury", "shipping"])
    assert scores.shape == (2, 2) and (scores > 0.99).all()
    with pytest.raises(ModelError) as info:
        ZeroShotTopics(tiny_model(tmp_path / "sent", {0: "negative", 1: "positive"}, 0))
    assert "is not an NLI model: its labels are negative, positive" in str(info.value)


def test_non_english_mentions_go_to_the_multilingual_model(tmp_path, classifier_parts):
    from classifiers.builtin import BuiltinClassifier
    from classifiers.language import LanguageDetector

    encoder, head = classifier_parts
    multi = HFSentiment(tiny_model(tmp_path / "xlm", {0: "negative", 1: "neutral",
                                                      2: "positive"}, 1))  # always neutral
    c = BuiltinClassifier([], encoder=encoder, head=head, multilingual=multi,
                          languages=LanguageDetector(["de", "es", "ja"]))
    en, de, ja = c.classify([
        "I love my new pumpkin glow lantern, thank you so much!",
        "Die Taschenlampe ist so heiß geworden, dass meine Tochter sich verbrannt hat",
        "懐中電灯で娘が手に火傷をしました。とても怖かったです。"])
    assert (en.language, de.language, ja.language) == ("en", "de", "ja")
    assert en.sentiment == "positive"                       # the built-in model
    assert de.sentiment == ja.sentiment == "neutral"        # the tiny multilingual model
    assert c.version.endswith(f"hf:{tmp_path / 'xlm'}")


def test_an_unknown_language_code_is_a_clear_error():
    from classifiers.language import LanguageDetector
    with pytest.raises(ModelError) as info:
        LanguageDetector(["xx"])
    assert str(info.value) == ("'xx' is not an ISO 639-1 language code that lingua knows "
                               "(e.g. de, fr, es, ja)")
