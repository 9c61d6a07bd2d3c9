import { describe, expect, it } from 'vitest';
import { displayName, memberName } from '../src/lib/users.js';

describe('displayName (bug 7: the header tells users apart)', () => {
  it('names the sandbox test users', () => {
    expect(displayName('o-sandbox-alice')).toBe('爱丽丝');
    expect(displayName('o-sandbox-bob')).toBe('鲍勃');
    expect(displayName('o-sandbox-carol')).toBe('卡罗尔');
  });

  it('masks anyone else, keeping users apart without showing the openid', () => {
    const a = displayName('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
    const b = displayName('oUpF8uMuAJO_M2pxb1Q9zNjWabcd');
    expect(a).not.toBe(b);
    expect(a).not.toContain('oUpF8uMuAJO');
    expect(a.startsWith('微信用户')).toBe(true);
  });
});

describe('memberName (the other members, from the group\'s member tag)', () => {
  it('names sandbox users and masks anyone else as their own header does', () => {
    expect(memberName('sandbox:bob')).toBe('鲍勃');
    expect(memberName('sandbox:eve')).toBe('测试用户 eve');
    expect(memberName('WeS6')).toBe(displayName('oUpF8uMuAJO_M2pxb1Q9zNjWeS6'));
    expect(memberName(undefined)).toBe('');
  });
});
