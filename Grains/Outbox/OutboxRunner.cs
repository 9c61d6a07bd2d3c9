namespace GroupPay.Grains.Outbox;

/// <summary>What the runner needs of an outbox entry: its subject (effects about one subject run in order), when it may
/// run next, and how it has been failing.</summary>
public interface IOutboxEffect
{
    string Subject { get; }

    DateTimeOffset NotBefore { get; set; }

    int Failures { get; set; }

    string? LastError { get; set; }

    DateTimeOffset? FailingSince { get; set; }

    bool Escalated { get; set; }
}

public enum EffectResultKind
{
    /// <summary>Done (or nothing left to do): the effect leaves the outbox.</summary>
    Done,

    /// <summary>Nothing wrong, nothing to do yet (a payment still payable, a refund still processing): the effect set
    /// its own <see cref="IOutboxEffect.NotBefore"/>; not a failure, never escalated.</summary>
    Waiting,

    /// <summary>Not done: backed off and retried, escalated when it keeps failing.</summary>
    Failed,
}

/// <summary>How one run of an effect ended.</summary>
public readonly record struct EffectResult(EffectResultKind Kind, string? Error)
{
    public static EffectResult Done { get; } = new(EffectResultKind.Done, null);

    public static EffectResult Waiting { get; } = new(EffectResultKind.Waiting, null);

    public static EffectResult Failed(string error) => new(EffectResultKind.Failed, error);

    /// <summary>Done when <paramref name="error"/> is null, else failed with it.</summary>
    public static EffectResult FromError(string? error) => error is null ? Done : Failed(error);
}

/// <summary>What the runner calls to carry out effects and to report on them; it knows nothing else about them.</summary>
public interface IOutboxHandler<in TEffect>
    where TEffect : IOutboxEffect
{
    /// <summary>Carries the effect out; an exception counts as a failure.</summary>
    Task<EffectResult> RunAsync(TEffect effect);

    /// <summary>True when running it records what it learned in the state (more than the outbox changes), whatever
    /// its result: the state must then be written.</summary>
    bool ChangesState(TEffect effect);

    /// <summary>Raises an item for an effect failing longer than <see cref="OutboxLimits.EscalateAfter"/>; false when
    /// it cannot be reported (a failing report to the operator queue itself).</summary>
    bool Escalate(TEffect effect, string reason, DateTimeOffset now);

    /// <summary>An escalated effect succeeded: its item can be settled.</summary>
    void Settled(TEffect effect, DateTimeOffset now);

    /// <summary>Called after each failure (for the log).</summary>
    void Failed(TEffect effect, string reason);
}

/// <summary>The bounds of one drain and of the retries.</summary>
public sealed record OutboxLimits(int MaxEffectsPerDrain, TimeSpan DrainBudget, TimeSpan MaxRetryDelay, TimeSpan EscalateAfter);

/// <summary>
/// One drain of an outbox: runs the due effects in order per subject (a later one waits for an earlier one of the same
/// subject), starts none after the budget (<see cref="OutboxLimits.MaxEffectsPerDrain"/> effects or
/// <see cref="OutboxLimits.DrainBudget"/>), backs failures off exponentially, and escalates an effect failing for longer
/// than <see cref="OutboxLimits.EscalateAfter"/> once (it is still retried; its success settles the item).
/// </summary>
/// <param name="limits">The drain budget and the retry bounds.</param>
/// <param name="clock">The time effects are due by.</param>
/// <param name="budgetClock">Measures the drain's elapsed time (the system's stopwatch unless given).</param>
public sealed class OutboxRunner<TEffect>(OutboxLimits limits, TimeProvider clock, TimeProvider? budgetClock = null)
    where TEffect : class, IOutboxEffect
{
    private readonly TimeProvider _budgetClock = budgetClock ?? TimeProvider.System;
    private readonly long _started = (budgetClock ?? TimeProvider.System).GetTimestamp();

    /// <summary>Effects started in this drain.</summary>
    public int Ran { get; private set; }

    /// <summary>True once the drain may start no more effects: the rest is left to a turn of its own.</summary>
    public bool BudgetSpent => Ran >= limits.MaxEffectsPerDrain || _budgetClock.GetElapsedTime(_started) >= limits.DrainBudget;

    /// <summary>True when an effect of <paramref name="outbox"/> is due now.</summary>
    public bool AnyDue(List<TEffect> outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        var now = clock.GetUtcNow();
        foreach (var effect in outbox)
        {
            if (effect.NotBefore <= now)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Effects may queue others that are due at once: up to <paramref name="passes"/> passes while any is due
    /// and the budget lasts, with <paramref name="afterPass"/> (true when it changed the state) after each. True when
    /// the state must be written.</summary>
    public async Task<bool> DrainAsync(List<TEffect> outbox, IOutboxHandler<TEffect> handler, Func<bool>? afterPass = null, int passes = 3)
    {
        var changed = false;
        for (var pass = 0; pass < passes && AnyDue(outbox) && !BudgetSpent; pass++)
        {
            changed |= await RunDueAsync(outbox, handler);
            if (afterPass is not null)
            {
                changed |= afterPass();
            }
        }
        return changed;
    }

    /// <summary>One pass over the due effects in order; true when one changed more than the outbox itself.</summary>
    public async Task<bool> RunDueAsync(List<TEffect> outbox, IOutboxHandler<TEffect> handler)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(handler);
        var changed = false;
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var effect in outbox.ToList())
        {
            var now = clock.GetUtcNow();
            if (BudgetSpent)
            {
                break; // the rest runs in the next drain
            }
            if (!outbox.Contains(effect))
            {
                continue; // an earlier effect of this pass removed it
            }
            if (effect.NotBefore > now || !blocked.Add(effect.Subject))
            {
                // Effects about one subject run in order: a later one waits for the earlier.
                blocked.Add(effect.Subject);
                continue;
            }
            EffectResult result;
            Ran++;
            try
            {
                result = await handler.RunAsync(effect);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                result = EffectResult.Failed(ex.GetType().Name + ": " + ex.Message);
            }
            changed |= handler.ChangesState(effect);
            switch (result.Kind)
            {
                case EffectResultKind.Waiting:
                    effect.FailingSince = null;
                    continue;
                case EffectResultKind.Done:
                    outbox.Remove(effect);
                    blocked.Remove(effect.Subject);
                    if (effect.Escalated)
                    {
                        handler.Settled(effect, now);
                    }
                    continue;
            }
            var error = result.Error ?? "failed";
            effect.Failures++;
            effect.LastError = error;
            effect.FailingSince ??= now;
            if (!effect.Escalated && now - effect.FailingSince >= limits.EscalateAfter && handler.Escalate(effect, error, now))
            {
                effect.Escalated = true;
                changed = true;
            }
            effect.NotBefore = now + Backoff(effect.Failures, limits.MaxRetryDelay);
            handler.Failed(effect, error);
        }
        return changed;
    }

    /// <summary>The pause after the <paramref name="failures"/>th failure: 10 s, 20 s, 40 s, … up to <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan max) =>
        TimeSpan.FromSeconds(Math.Min(max.TotalSeconds, 5 * Math.Pow(2, Math.Min(failures, 16))));
}
