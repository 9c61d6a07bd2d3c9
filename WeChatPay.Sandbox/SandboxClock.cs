namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// WeChat's clock as the sandbox sees it: system time plus an offset that only moves forward
/// (<c>POST /sandbox/clock/advance</c>). Every rule (prepay lifetime, the close rule, refund settlement, OAuth
/// code lifetime) and every timestamp reads it. Timers and timestamps stay on real time: scheduled delays
/// (notify retries, refund settlement) are real time scaled by <c>Sandbox:TimeScale</c>.
/// </summary>
internal sealed class SandboxClock : TimeProvider
{
    private readonly TimeProvider _system = System;
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => _system.GetUtcNow() + Offset;

    public override TimeZoneInfo LocalTimeZone => _system.LocalTimeZone;

    public override long TimestampFrequency => _system.TimestampFrequency;

    public override long GetTimestamp() => _system.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _system.CreateTimer(callback, state, dueTime, period);

    /// <summary>Moves the clock forward; returns the new offset.</summary>
    public TimeSpan Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        return TimeSpan.FromTicks(Interlocked.Add(ref _offsetTicks, by.Ticks));
    }
}
