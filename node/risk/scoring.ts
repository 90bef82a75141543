/**
 * The overall level, by a rule an officer can redo by hand: the score is the sum of the indicator weights
 * (risk indicators add, facilitation indicators such as a valid AEO subtract, information adds nothing), and
 * the level is "high" from the high threshold, "medium" from the medium threshold, "low" below. The
 * explanation spells the sum out with the thresholds it was compared with.
 */
import type { Indicator, RiskLevel } from '../../protocol/risk.js';

export interface Scored {
  score: number;
  level: RiskLevel;
  explanation: string;
  indicators: Indicator[];
}

export function scoreOf(list: Indicator[], levels: { medium: number; high: number }): Scored {
  const indicators = [...list].sort((a, b) => b.weight - a.weight || a.code.localeCompare(b.code) || (a.rule ?? '').localeCompare(b.rule ?? ''));
  const score = Math.round(indicators.reduce((n, i) => n + i.weight, 0) * 100) / 100;
  const level: RiskLevel = score >= levels.high ? 'high' : score >= levels.medium ? 'medium' : 'low';
  const terms = indicators.filter((i) => i.weight !== 0).map((i) => `${i.rule ?? i.code} ${i.weight > 0 ? '+' : ''}${i.weight}`);
  const sum = terms.length ? terms.join(' ') : 'no weighted indicator';
  const explanation = `score ${score} = ${sum}; low below ${levels.medium}, medium from ${levels.medium}, high from ${levels.high}: ${level}`;
  return { score, level, explanation, indicators };
}
