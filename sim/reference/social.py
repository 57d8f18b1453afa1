"""Word of mouth (W1), one consumer at a time: the twin of `sim.mechanisms.social`."""

from __future__ import annotations


class SocialRules:
    """A consumer talks to one friend about one brand."""

    def talk(self) -> None:
        tr = self.model.scenario.trust
        if self.random.random() >= tr.talk_rate or not self.ties:
            return
        friend = self.random.choice(self.ties)
        b = self.random.randrange(len(self.relations))
        d = friend.trust(b) - tr.prior
        if d > 0.0:
            self.relations[b].r += tr.word_of_mouth * d
        else:
            self.negative(b, -tr.word_of_mouth * d)
        rel = self.relations[b]
        if friend.relations[b].heard and not rel.heard:
            rel.heard = True
            inc = self.model.scenario.incidents
            self.negative(b, inc.word_of_mouth_news_share * inc.news_evidence)
