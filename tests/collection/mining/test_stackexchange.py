import json

import pytest

from collection.mining.http import HttpError
from collection.mining.posts import PostRules
from collection.mining.stackexchange import QuotaExhausted, StackOverflowMiner, stackexchange_client
from tests.collection.mining.fakeapi import FakeApi


class Clock:
    def __init__(self):
        self.t = 0.0
        self.slept = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.t += seconds


def _question(qid, title, views, *, accepted=True, tags=("tensorflow", "python")):
    item = {
        "question_id": qid,
        "title": title,
        "body": f"<p>body {qid}</p>",
        "tags": list(tags),
        "view_count": views,
        "score": 1,
        "creation_date": 1500000000 + qid,
        "link": f"https://stackoverflow.com/questions/{qid}",
    }
    if accepted:
        item["accepted_answer_id"] = qid * 100
    return item


QUESTIONS = [
    _question(1, "Shape mismatch in &lt;tf.Tensor&gt;", 500),
    _question(2, "How to install tensorflow", 9000),
    _question(3, "Loss is NaN", 700),
    _question(4, "showing wrong accuracy", 800),  # "show" inside a word: kept
    _question(5, "No answer accepted", 10000, accepted=False),
    _question(6, "Build fails with bazel", 8000),
    _question(7, "Gradient explodes", 300),
]


@pytest.fixture
def api():
    with FakeApi() as server:
        quota = {"left": 100}

        def search(request):
            page = int(request["query"]["page"])
            size = 3
            items = QUESTIONS[(page - 1) * size : page * size]
            quota["left"] -= 1
            body = {
                "items": items,
                "has_more": page * size < len(QUESTIONS),
                "quota_max": 300,
                "quota_remaining": quota["left"],
            }
            if page == 1:
                body["backoff"] = 5
            return 200, {}, body

        def answers(request):
            ids = request["path"].rsplit("/", 1)[1].split(";")
            items = [{"answer_id": int(i), "body": f"<p>answer {i}</p>"} for i in ids]
            return 200, {}, {"items": items, "has_more": False, "quota_remaining": quota["left"]}

        server.route("/2.3/search/advanced", search)
        server.quota = quota
        server.answers = answers
        yield server


def _route_answers(api, ids):
    api.route("/2.3/answers/" + ";".join(str(i) for i in ids), api.answers)


def _client(api, clock):
    return stackexchange_client(env={"STACKEXCHANGE_API_URL": api.url + "/2.3"}, sleep=clock.sleep, now=clock.now)


def test_pages_with_has_more_applies_the_rules_and_honours_backoff(api):
    clock = Clock()
    _route_answers(api, [400, 300, 100, 700])
    miner = StackOverflowMiner(_client(api, clock), PostRules(tag="tensorflow", top=4))
    kept = miner.run()
    assert [q.id for q in kept] == [4, 3, 1, 7]  # by views; "How", "Build" and no accepted answer are out
    assert kept[2].title == "Shape mismatch in <tf.Tensor>"  # the API escapes titles
    assert kept[0].answer_body == "<p>answer 400</p>"
    pages = [r["query"]["page"] for r in api.requests_to("/2.3/search/advanced")]
    assert pages == ["1", "2", "3"]
    first = api.requests_to("/2.3/search/advanced")[0]["query"]
    assert first["tagged"] == "tensorflow" and first["accepted"] == "True" and first["site"] == "stackoverflow"
    assert clock.slept == [5.0]  # the backoff after page 1


def test_top_n_keeps_only_the_best(api):
    clock = Clock()
    _route_answers(api, [400, 300])
    kept = StackOverflowMiner(_client(api, clock), PostRules(tag="tensorflow", top=2)).run()
    assert [q.id for q in kept] == [4, 3]


def test_throttle_violation_waits_then_retries(api):
    clock = Clock()
    _route_answers(api, [400, 300, 100, 700])
    api.script(
        "/2.3/search/advanced",
        400,
        {},
        {
            "error_id": 502,
            "error_name": "throttle_violation",
            "error_message": "too many requests from this IP, more requests available in 42 seconds",
        },
    )
    kept = StackOverflowMiner(_client(api, clock), PostRules(tag="tensorflow", top=4)).run()
    assert len(kept) == 4
    assert clock.slept[0] == 42.0


def test_other_api_errors_fail(api):
    api.script(
        "/2.3/search/advanced",
        400,
        {},
        {"error_id": 400, "error_name": "bad_parameter", "error_message": "tagged is invalid"},
    )
    with pytest.raises(HttpError, match="tagged is invalid"):
        StackOverflowMiner(_client(api, Clock()), PostRules(tag="tensorflow")).run()


def test_quota_exhausted_stops_and_resumes(api):
    clock = Clock()
    _route_answers(api, [400, 300, 100, 700])
    api.quota["left"] = 2  # page 1 leaves 1, page 2 leaves 0
    saved = {}
    miner = StackOverflowMiner(
        _client(api, clock),
        PostRules(tag="tensorflow", top=4),
        save_state=lambda s: saved.update(json.loads(json.dumps(s))),
    )
    with pytest.raises(QuotaExhausted, match="page 3"):
        miner.run()
    assert saved["next_page"] == 3
    api.quota["left"] = 100  # the next day
    before = len(api.log)
    kept = StackOverflowMiner(_client(api, clock), PostRules(tag="tensorflow", top=4), state=saved).run()
    assert [q.id for q in kept] == [4, 3, 1, 7]
    assert [r["query"].get("page") for r in api.log[before:] if r["path"].endswith("advanced")] == ["3"]
