using GroupPay.Grains.Outbox;
using Microsoft.Extensions.Time.Testing;

namespace GroupPay.Grains.Tests;

/// <summary>The generic outbox runner without a cluster: order per subject, the drain budget, backoff, waiting and
/// escalation.</summary>
public sealed class OutboxRunnerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly OutboxLimits Limits = new(MaxEffectsPerDrain: 16, DrainBudget: TimeSpan.FromSeconds(10),
        MaxRetryDelay: TimeSpan.FromMinutes(10), EscalateAfter: TimeSpan.FromMinutes(30));

    private sealed class Effect(string name, string subject, DateTimeOffset notBefore) : IOutboxEffect
    {
        public string Name { get; } = name;

        public string Subject { get; } = subject;

        public DateTimeOffset NotBefore { get; set; } = notBefore;

        public int Failures { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? FailingSince { get; set; }

        public bool Escalated { get; set; }
    }

    private sealed class Handler : IOutboxHandler<Effect>
    {
        public List<string> Ran { get; } = [];

        public List<string> Escalations { get; } = [];

        public List<string> Settlements { get; } = [];

        public List<string> Failures { get; } = [];

        public Func<Effect, EffectResult> Outcome { get; set; } = _ => EffectResult.Done;

        public Func<Effect, bool> MayEscalate { get; set; } = _ => true;

        public Action<Effect>? OnRun { get; set; }

        public Task<EffectResult> RunAsync(Effect effect)
        {
            Ran.Add(effect.Name);
            OnRun?.Invoke(effect);
            return Task.FromResult(Outcome(effect));
        }

        public bool ChangesState(Effect effect) => effect.Name.StartsWith("wechat", StringComparison.Ordinal);

        public bool Escalate(Effect effect, string reason, DateTimeOffset now)
        {
            if (!MayEscalate(effect))
            {
                return false;
            }
            Escalations.Add($"{effect.Name}: {reason}");
            return true;
        }

        public void Settled(Effect effect, DateTimeOffset now) => Settlements.Add(effect.Name);

        public void Failed(Effect effect, string reason) => Failures.Add($"{effect.Name}#{effect.Failures}");
    }

    private static (FakeTimeProvider Clock, OutboxRunner<Effect> Runner) NewRunner(OutboxLimits? limits = null, FakeTimeProvider? budgetClock = null)
    {
        var clock = new FakeTimeProvider(T0);
        return (clock, new OutboxRunner<Effect>(limits ?? Limits, clock, budgetClock ?? new FakeTimeProvider(T0)));
    }

    [Fact]
    public async Task RunsDueEffectsInOrderAndLeavesTheOnesNotDue()
    {
        var (_, runner) = NewRunner();
        var outbox = new List<Effect> { new("a1", "a", T0), new("b1", "b", T0.AddMinutes(1)), new("c1", "c", T0) };
        var handler = new Handler();

        var changed = await runner.RunDueAsync(outbox, handler);

        Assert.Equal(["a1", "c1"], handler.Ran);
        Assert.Equal(["b1"], outbox.Select(e => e.Name));
        Assert.False(changed);
        Assert.Equal(2, runner.Ran);
    }

    [Fact]
    public async Task ALaterEffectOfASubjectWaitsForTheEarlierOneEvenWhenThatIsNotDue()
    {
        var (_, runner) = NewRunner();
        var outbox = new List<Effect> { new("a1", "a", T0.AddMinutes(1)), new("a2", "a", T0), new("b1", "b", T0) };
        var handler = new Handler();

        await runner.RunDueAsync(outbox, handler);

        Assert.Equal(["b1"], handler.Ran);
        Assert.Equal(["a1", "a2"], outbox.Select(e => e.Name));
    }

    [Fact]
    public async Task ALaterEffectOfASubjectRunsInTheSamePassOnceTheEarlierSucceededButNotAfterItFailed()
    {
        var (_, runner) = NewRunner();
        var outbox = new List<Effect> { new("a1", "a", T0), new("a2", "a", T0), new("b1", "b", T0), new("b2", "b", T0) };
        var handler = new Handler { Outcome = e => e.Name == "b1" ? EffectResult.Failed("no") : EffectResult.Done };

        await runner.RunDueAsync(outbox, handler);

        Assert.Equal(["a1", "a2", "b1"], handler.Ran);
        Assert.Equal(["b1", "b2"], outbox.Select(e => e.Name));
    }

    [Fact]
    public async Task AFailureIsRecordedAndBackedOffExponentiallyUpToTheLongestPause()
    {
        var (clock, runner) = NewRunner();
        var effect = new Effect("wechat", "a", T0);
        var outbox = new List<Effect> { effect };
        var handler = new Handler { Outcome = _ => EffectResult.Failed("SYSTEMERROR") };

        var changed = await runner.RunDueAsync(outbox, handler);

        Assert.True(changed); // a WeChat call records what it learned, whatever its result
        Assert.Equal((1, "SYSTEMERROR", T0, T0.AddSeconds(10)), (effect.Failures, effect.LastError, effect.FailingSince, effect.NotBefore));
        Assert.Equal(["wechat#1"], handler.Failures);
        Assert.Single(outbox);

        clock.SetUtcNow(effect.NotBefore);
        await new OutboxRunner<Effect>(Limits, clock, new FakeTimeProvider(T0)).RunDueAsync(outbox, handler);
        Assert.Equal((2, T0, clock.GetUtcNow().AddSeconds(20)), (effect.Failures, effect.FailingSince, effect.NotBefore));

        Assert.Equal(TimeSpan.FromSeconds(80), OutboxRunner<Effect>.Backoff(4, TimeSpan.FromMinutes(10)));
        Assert.Equal(TimeSpan.FromMinutes(10), OutboxRunner<Effect>.Backoff(7, TimeSpan.FromMinutes(10)));
        Assert.Equal(TimeSpan.FromMinutes(10), OutboxRunner<Effect>.Backoff(1000, TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public async Task AnExceptionIsAFailure()
    {
        var (_, runner) = NewRunner();
        var effect = new Effect("grain", "a", T0);
        var handler = new Handler { OnRun = _ => throw new TimeoutException("silo gone") };

        await runner.RunDueAsync([effect], handler);

        Assert.Equal((1, "TimeoutException: silo gone"), (effect.Failures, effect.LastError));
    }

    [Fact]
    public async Task WaitingIsNoFailureAndKeepsTheTimeTheEffectSet()
    {
        var (_, runner) = NewRunner();
        var effect = new Effect("wechat-query", "a", T0) { Failures = 3, FailingSince = T0.AddMinutes(-5) };
        var outbox = new List<Effect> { effect, new("a2", "a", T0) };
        var handler = new Handler
        {
            Outcome = e =>
            {
                if (e.Name != "wechat-query")
                {
                    return EffectResult.Done;
                }
                e.NotBefore = T0.AddMinutes(3);
                return EffectResult.Waiting;
            },
        };

        await runner.RunDueAsync(outbox, handler);

        Assert.Equal((3, (DateTimeOffset?)null, T0.AddMinutes(3)), (effect.Failures, effect.FailingSince, effect.NotBefore));
        Assert.Equal(["wechat-query"], handler.Ran); // the subject's next effect still waits for it
        Assert.Empty(handler.Failures);
        Assert.Equal(2, outbox.Count);
    }

    [Fact]
    public async Task StartsNoEffectBeyondTheMaximumPerDrain()
    {
        var (_, runner) = NewRunner(Limits with { MaxEffectsPerDrain = 3 });
        var outbox = Enumerable.Range(0, 5).Select(i => new Effect($"e{i}", $"s{i}", T0)).ToList();
        var handler = new Handler();

        await runner.DrainAsync(outbox, handler);

        Assert.Equal(["e0", "e1", "e2"], handler.Ran);
        Assert.True(runner.BudgetSpent);
        Assert.True(runner.AnyDue(outbox));
        Assert.Equal(2, outbox.Count);
    }

    [Fact]
    public async Task StartsNoEffectOnceTheDrainsTimeIsSpent()
    {
        var budgetClock = new FakeTimeProvider(T0);
        var (_, runner) = NewRunner(budgetClock: budgetClock);
        var outbox = Enumerable.Range(0, 5).Select(i => new Effect($"e{i}", $"s{i}", T0)).ToList();
        var handler = new Handler { OnRun = _ => budgetClock.Advance(TimeSpan.FromSeconds(4)) };

        await runner.DrainAsync(outbox, handler);

        Assert.Equal(["e0", "e1", "e2"], handler.Ran); // 12 s used after the third: the fourth is not started
        Assert.True(runner.BudgetSpent);
    }

    [Fact]
    public async Task EffectsQueuedByAnEffectRunInTheNextPassOfTheSameDrainUpToThreePasses()
    {
        var (_, runner) = NewRunner();
        var outbox = new List<Effect> { new("p0", "a", T0) };
        var handler = new Handler();
        handler.OnRun = e =>
        {
            var next = int.Parse(e.Name[1..], System.Globalization.CultureInfo.InvariantCulture) + 1;
            outbox.Add(new Effect($"p{next}", "a", T0));
        };
        var afterPass = 0;

        await runner.DrainAsync(outbox, handler, () => ++afterPass > 10);

        Assert.Equal(["p0", "p1", "p2"], handler.Ran);
        Assert.Equal(3, afterPass);
        Assert.Equal(["p3"], outbox.Select(e => e.Name));
    }

    [Fact]
    public async Task AnEffectFailingLongerThanTheLimitEscalatesOnceAndItsSuccessSettlesTheItem()
    {
        var (clock, _) = NewRunner();
        var effect = new Effect("wechat", "a", T0) { Failures = 5, FailingSince = T0.AddMinutes(-29) };
        var outbox = new List<Effect> { effect };
        var handler = new Handler { Outcome = _ => EffectResult.Failed("SYSTEMERROR") };

        await new OutboxRunner<Effect>(Limits, clock).RunDueAsync(outbox, handler);
        Assert.Empty(handler.Escalations); // failing for 29 minutes
        Assert.False(effect.Escalated);

        clock.SetUtcNow(T0.AddMinutes(1));
        effect.NotBefore = clock.GetUtcNow();
        Assert.True(await new OutboxRunner<Effect>(Limits, clock).RunDueAsync(outbox, handler));
        Assert.Equal(["wechat: SYSTEMERROR"], handler.Escalations);
        Assert.True(effect.Escalated);

        clock.Advance(TimeSpan.FromMinutes(10));
        effect.NotBefore = clock.GetUtcNow();
        await new OutboxRunner<Effect>(Limits, clock).RunDueAsync(outbox, handler);
        Assert.Single(handler.Escalations); // still retried, reported once

        handler.Outcome = _ => EffectResult.Done;
        clock.Advance(TimeSpan.FromMinutes(10));
        effect.NotBefore = clock.GetUtcNow();
        await new OutboxRunner<Effect>(Limits, clock).RunDueAsync(outbox, handler);
        Assert.Equal(["wechat"], handler.Settlements);
        Assert.Empty(outbox);
    }

    [Fact]
    public async Task AnEffectThatCannotBeReportedIsRetriedWithoutEscalating()
    {
        var (clock, runner) = NewRunner();
        var effect = new Effect("report", "item:x", T0) { FailingSince = T0.AddHours(-2) };
        var handler = new Handler { Outcome = _ => EffectResult.Failed("queue down"), MayEscalate = _ => false };

        var changed = await runner.RunDueAsync([effect], handler);

        Assert.False(changed);
        Assert.False(effect.Escalated);
        Assert.Empty(handler.Escalations);
        Assert.Equal(clock.GetUtcNow().AddSeconds(10), effect.NotBefore);
    }

    [Fact]
    public async Task AnEffectRemovedByAnEarlierOneIsNotRun()
    {
        var (_, runner) = NewRunner();
        var outbox = new List<Effect> { new("a1", "a", T0), new("b1", "b", T0) };
        var handler = new Handler { OnRun = e => outbox.RemoveAll(x => x.Name == "b1") };

        await runner.RunDueAsync(outbox, handler);

        Assert.Equal(["a1"], handler.Ran);
        Assert.Empty(outbox);
    }
}
