using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Outbox;
using GroupPay.Grains.Stats;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace GroupPay.Grains.Tests;

/// <summary>The group rules as plain C# over the state, without a cluster: what each rule changes and which effects it
/// queues.</summary>
public sealed class GroupRulesTests
{
    private const string GroupId = "g0123456789ab";
    private const string Leader = "o-leader";
    private const string Friend = "o-friend";

    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    private static CampaignDefinition Terms(bool virtualFill = false) => new()
    {
        Title = "拼团测试商品",
        SoloPriceFen = 1990,
        GroupPriceFen = 990,
        GroupSize = 3,
        WindowMinutes = 60,
        HoldMinutes = 15,
        Stock = 100,
        InviterRewardFen = 100,
        VirtualFill = virtualFill,
    };

    private readonly FakeTimeProvider _clock = new(T0);
    private readonly OrderState _state = new();
    private readonly GroupRules _rules;

    public GroupRulesTests()
    {
        _rules = new GroupRules(GroupId, _state, new OrderOptions(), _clock);
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private void Start(bool virtualFill = false)
    {
        var leaderSlot = new SlotRecord { Index = 0 };
        GroupRules.Hold(leaderSlot, _rules.NextReservationId(leaderSlot), Leader, T0.AddMinutes(15));
        _rules.Start("c1", Terms(virtualFill), Leader, leaderSlot, T0);
    }

    private AttemptRecord StartPayment(SlotRecord slot, string payer)
    {
        var attempt = _rules.StartAttempt(slot, payer);
        _rules.PrepayIssued(attempt, "wx" + attempt.OutTradeNo);
        return attempt;
    }

    private static PaymentNotice Notice(AttemptRecord attempt, DateTimeOffset timeEnd, string transactionId = "4200000001") =>
        new(attempt.OutTradeNo, transactionId, attempt.AmountFen, attempt.PayerOpenid, timeEnd);

    /// <summary>An open group (the leader paid at T0) with the friend's live attempt for slot 1.</summary>
    private AttemptRecord OpenWithFriendPaying()
    {
        Start();
        var leader = StartPayment(_state.Slots[0], Leader);
        Assert.Equal(PaymentDisposition.Applied, _rules.ApplyPayment(Notice(leader, T0)));
        var slot = _rules.FreeSlotFor(Friend);
        GroupRules.Hold(slot, _rules.NextReservationId(slot), Friend, _rules.HoldUntil(Now));
        _state.Outbox.Clear();
        return StartPayment(slot, Friend);
    }

    private List<EffectKind> Queued(string subject) => [.. _state.Outbox.Where(e => e.Subject == subject).Select(e => e.Kind)];

    private long Counted(Counter counter) => _state.Counts.GetValueOrDefault(TallyField.Both(counter));

    [Fact]
    public void ASlotTakesAtMostItsCapOfAttemptsAndTheOneOverIsRefusedWithNothingChanged()
    {
        var cap = new OrderOptions().MaxAttemptsPerSlot;
        var friendsAttempt = OpenWithFriendPaying();
        var slot = _state.Slots[1];
        for (var n = 1; n < cap; n++)
        {
            StartPayment(slot, $"o-on-behalf-{n}");
        }
        Assert.Equal(cap, _rules.AttemptsOf(slot));
        var (live, count, attempts) = (slot.LiveAttempt, _state.AttemptCount, _state.Attempts.Count);

        var refused = Assert.Throws<TooManyAttemptsException>(() => _rules.StartAttempt(slot, "o-one-too-many"));

        Assert.Equal("too-many-attempts", refused.Code);
        Assert.Equal((live, count, attempts), (slot.LiveAttempt, _state.AttemptCount, _state.Attempts.Count));
        Assert.NotEqual(friendsAttempt.OutTradeNo, live);
    }

    [Fact]
    public void AJoinerIsGivenAFreeSlotBelowTheCapAndRefusedWhenEveryFreeSlotIsAtIt()
    {
        var cap = new OrderOptions().MaxAttemptsPerSlot;
        OpenWithFriendPaying();
        var slot = _state.Slots[1];
        for (var n = 1; n < cap; n++)
        {
            StartPayment(slot, $"o-on-behalf-{n}");
        }
        // The friend's hold lapses: slot 1 is free again, with its cap used up; slot 2 is free too.
        _clock.SetUtcNow(slot.HoldExpiresAt!.Value + TimeSpan.FromMinutes(2));
        foreach (var attempt in _state.Attempts.Values.Where(a => a.SlotIndex == 1))
        {
            attempt.MarkClosed();
        }

        Assert.Equal(2, _rules.FreeSlotFor("o-next").Index);
        GroupRules.Hold(_state.Slots[2], _rules.NextReservationId(_state.Slots[2]), "o-next", _rules.HoldUntil(Now));
        Assert.Throws<TooManyAttemptsException>(() => _rules.FreeSlotFor("o-after"));
    }

    [Fact]
    public void TheLeadersPaymentOpensTheGroupAndStartsItsDeadline()
    {
        Start();
        var attempt = StartPayment(_state.Slots[0], Leader);
        Assert.Equal((AttemptStatus.Live, "g0123456789abP1"), (attempt.Status, attempt.OutTradeNo));
        Assert.Equal([EffectKind.Reconcile], Queued(attempt.OutTradeNo));

        _clock.Advance(TimeSpan.FromMinutes(2));
        var disposition = _rules.ApplyPayment(Notice(attempt, Now));

        Assert.Equal(PaymentDisposition.Applied, disposition);
        Assert.Equal((GroupStatus.Open, Now.AddMinutes(60)), (_state.Status, _state.Deadline));
        Assert.Equal((SlotStatus.Paid, attempt.OutTradeNo, (string?)null), (_state.Slots[0].Status, _state.Slots[0].PaidAttempt, _state.Slots[0].LiveAttempt));
        Assert.True(attempt.Applied);
        Assert.Equal([EffectKind.RecordLeaderPayer], Queued(attempt.OutTradeNo)); // its orderquery is no longer needed
        Assert.Equal((1L, 1L, 1L), (Counted(Counter.PaymentsCreated), Counted(Counter.PaymentsPaid), Counted(Counter.GroupsOpened)));
        Assert.Equal(PaymentDisposition.Duplicate, _rules.ApplyPayment(Notice(attempt, Now)));
        Assert.Equal(1L, Counted(Counter.PaymentsPaid));
    }

    [Fact]
    public void APaymentTakenWithinTheHoldAndItsGraceIsKeptThoughItArrivesAfterTheExpiry()
    {
        var attempt = OpenWithFriendPaying();
        _clock.SetUtcNow(attempt.PayableUntil + TimeSpan.FromSeconds(50));

        var disposition = _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + TimeSpan.FromSeconds(40)));

        Assert.Equal(PaymentDisposition.Applied, disposition);
        Assert.Equal(SlotStatus.Paid, _state.Slots[1].Status);
        Assert.Equal(1L, Counted(Counter.Paid));
    }

    [Fact]
    public void APaymentTakenAfterTheHoldAndItsGraceIsRefunded()
    {
        var attempt = OpenWithFriendPaying();
        _clock.SetUtcNow(attempt.PayableUntil + TimeSpan.FromSeconds(50));

        var disposition = _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + Grace + TimeSpan.FromSeconds(1)));

        Assert.Equal(PaymentDisposition.Refunding, disposition);
        Assert.Equal((RefundProgress.Requested, 1, false), (attempt.Refund, attempt.RefundSequence, attempt.Applied));
        Assert.Equal([EffectKind.Refund], Queued(attempt.OutTradeNo));
        Assert.Equal(SlotStatus.Held, _state.Slots[1].Status);
    }

    [Fact]
    public void ASecondPaymentForAPaidSlotIsRefunded()
    {
        var first = OpenWithFriendPaying();
        var second = StartPayment(_state.Slots[1], Friend + "2");
        Assert.Equal(AttemptStatus.Superseded, first.Status);
        Assert.Equal([EffectKind.CloseOrder], Queued(first.OutTradeNo));
        Assert.Equal(first.CreatedAt + TimeSpan.FromMinutes(5), _state.Outbox.Single(e => e.Subject == first.OutTradeNo).NotBefore);

        Assert.Equal(PaymentDisposition.Applied, _rules.ApplyPayment(Notice(second, Now, "4200000002")));
        Assert.Equal(PaymentDisposition.Refunding, _rules.ApplyPayment(Notice(first, Now, "4200000003")));
        Assert.Equal(second.OutTradeNo, _state.Slots[1].PaidAttempt);
        Assert.Equal(RefundProgress.Requested, first.Refund);
    }

    [Fact]
    public void AnUnpaidHoldLapsesOnlyAfterItsGraceAndGivesItsUnitBack()
    {
        Start();
        _rules.ApplyPayment(Notice(StartPayment(_state.Slots[0], Leader), T0));
        var slot = _rules.FreeSlotFor(Friend);
        GroupRules.Hold(slot, _rules.NextReservationId(slot), Friend, _rules.HoldUntil(Now));
        _state.Outbox.Clear();

        Assert.False(_rules.ExpireHolds(T0.AddMinutes(15) + Grace - TimeSpan.FromSeconds(1)));
        Assert.True(_rules.ExpireHolds(T0.AddMinutes(15) + Grace));

        Assert.Equal((SlotStatus.Free, (string?)null), (slot.Status, slot.MemberOpenid));
        Assert.Equal([EffectKind.ReleaseStock], Queued($"{GroupId}/1/1"));
    }

    [Fact]
    public void TheLeadersLapsedHoldAbandonsThePendingGroup()
    {
        Start();
        _clock.SetUtcNow(T0.AddMinutes(16));

        Assert.True(_rules.ExpireHolds(Now));

        Assert.Equal((GroupStatus.Abandoned, Now), (_state.Status, _state.SettledAt));
        Assert.Throws<GroupClosedException>(() => _rules.FreeSlotFor(Leader));
    }

    [Fact]
    public void AHoldWhoseAttemptIsStillBeingCreatedWaitsForUnifiedorder()
    {
        Start();
        var attempt = _rules.StartAttempt(_state.Slots[0], Leader);
        _clock.SetUtcNow(T0.AddMinutes(30));

        Assert.False(_rules.ExpireHolds(Now));

        Assert.Equal(SlotStatus.Held, _state.Slots[0].Status);
        Assert.Equal(AttemptStatus.Creating, attempt.Status);
    }

    [Fact]
    public void UnifiedorderRefusingTheAttemptClosesItAndDropsItsEffects()
    {
        Start();
        var attempt = _rules.StartAttempt(_state.Slots[0], Leader);

        _rules.PrepayRefused(attempt);

        Assert.Equal(AttemptStatus.Closed, attempt.Status);
        Assert.Null(_state.Slots[0].LiveAttempt);
        Assert.Empty(Queued(attempt.OutTradeNo));
        Assert.Equal(0L, Counted(Counter.PaymentsCreated));
    }

    [Fact]
    public void AtTheDeadlinePlusGraceTheGroupFailsEveryPayerIsRefundedAndEveryHoldReleased()
    {
        var live = OpenWithFriendPaying();
        var leaderPayment = _state.Attempts[_state.Slots[0].PaidAttempt!];

        Assert.False(_rules.CloseAtDeadline(_state.Deadline!.Value + Grace - TimeSpan.FromSeconds(1)));
        Assert.True(_rules.CloseAtDeadline(_state.Deadline!.Value + Grace));

        Assert.Equal(GroupStatus.Failed, _state.Status);
        Assert.Equal(1L, Counted(Counter.GroupsFailed));
        Assert.Equal(SlotStatus.Refunding, _state.Slots[0].Status);
        Assert.Equal([EffectKind.ReverseReward, EffectKind.Refund], Queued(leaderPayment.OutTradeNo));
        Assert.Equal(RefundProgress.Requested, leaderPayment.Refund);
        Assert.Equal((SlotStatus.Free, AttemptStatus.Superseded), (_state.Slots[1].Status, live.Status));
        Assert.Equal([EffectKind.CloseOrder], Queued(live.OutTradeNo));
    }

    [Fact]
    public void WithVirtualFillTheGroupCompletesAtTheDeadline()
    {
        Start(virtualFill: true);
        var leader = StartPayment(_state.Slots[0], Leader);
        _rules.ApplyPayment(Notice(leader, T0));

        Assert.True(_rules.CloseAtDeadline(_state.Deadline!.Value + Grace));

        Assert.Equal(GroupStatus.Complete, _state.Status);
        Assert.Equal([SlotStatus.Paid, SlotStatus.Virtual, SlotStatus.Virtual], _state.Slots.Select(s => s.Status));
        Assert.Equal([EffectKind.RecordLeaderPayer, EffectKind.ScheduleGrant], Queued(leader.OutTradeNo));
    }

    [Fact]
    public void ARefundSucceedsOnceAndIsCountedOnce()
    {
        var attempt = OpenWithFriendPaying();
        _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + TimeSpan.FromMinutes(5)));
        _rules.RefundAccepted(attempt, attempt.OutRefundNo, "5030001");
        var notice = new RefundNotice(attempt.OutTradeNo, attempt.OutRefundNo, "5030001", attempt.AmountFen, RefundState.Succeeded);

        Assert.True(_rules.ApplyRefund(notice));
        Assert.False(_rules.ApplyRefund(notice));

        Assert.Equal(RefundProgress.Succeeded, attempt.Refund);
        Assert.Equal(1L, Counted(Counter.PaymentsRefunded));
        Assert.DoesNotContain(EffectKind.CheckRefund, Queued(attempt.OutTradeNo));
    }

    [Fact]
    public void ARefundThatSucceededThoughItsSendingWasNeverStoredIsInTheLedgerDatedByItsSettlement()
    {
        // The silo that sent the refund died before its write: neither the send nor the acceptance is stored, and the
        // next activation hears WeChat's SUCCESS first.
        var attempt = OpenWithFriendPaying();
        _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + TimeSpan.FromMinutes(5)));
        Assert.Equal((RefundProgress.Requested, (DateTimeOffset?)null), (attempt.Refund, attempt.RefundSentAt));

        Assert.True(_rules.ApplyRefund(new RefundNotice(attempt.OutTradeNo, attempt.OutRefundNo, "5030001", attempt.AmountFen, RefundState.Succeeded)));

        var refund = Assert.Single(GroupTally.LedgerOf(GroupId, _state), e => e.Kind == LedgerEntryKind.Refund);
        Assert.Equal((attempt.OutRefundNo, _clock.GetUtcNow()), (refund.OutRefundNo, refund.At));
    }

    [Fact]
    public void AClosedRefundIsAskedAgainUnderTheNextNumberUntilTheBoundThenEscalates()
    {
        var attempt = OpenWithFriendPaying();
        _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + TimeSpan.FromMinutes(5)));
        for (var number = 1; number <= 3; number++)
        {
            Assert.Equal(TradeNumbers.OutRefundNo(attempt.OutTradeNo, number), attempt.OutRefundNo);
            _rules.RefundAccepted(attempt, attempt.OutRefundNo, null);
            Assert.True(_rules.ApplyRefund(new RefundNotice(attempt.OutTradeNo, attempt.OutRefundNo, null, attempt.AmountFen, RefundState.Closed)));
        }

        Assert.Equal((RefundProgress.NeedsAttention, 3), (attempt.Refund, attempt.RefundSequence));
        Assert.Equal(Operations.OperatorItemKind.RefundStuck, attempt.Escalation);
        Assert.Contains(_state.Outbox, e => e.Kind == EffectKind.RaiseItem && e.Report!.ItemId == attempt.RefundItemId);
    }

    [Fact]
    public void ARetrySafeRefundErrorIsSentAgainAndAPermanentOneEscalates()
    {
        var attempt = OpenWithFriendPaying();
        _rules.ApplyPayment(Notice(attempt, attempt.PayableUntil + TimeSpan.FromMinutes(5)));

        Assert.True(_rules.RefundFailed(attempt, attempt.OutRefundNo, new WeChatPayError(WeChatPayErrorKind.Business, WeChatPayErrorCode.SystemError, "SYSTEMERROR", "busy")));
        Assert.Equal((RefundProgress.Requested, 1), (attempt.Refund, attempt.RefundFailures));

        Assert.False(_rules.RefundFailed(attempt, attempt.OutRefundNo, new WeChatPayError(WeChatPayErrorKind.Business, WeChatPayErrorCode.NotEnough, "NOTENOUGH", "balance")));
        Assert.Equal((RefundProgress.NeedsAttention, Operations.OperatorItemKind.RefundRefused), (attempt.Refund, attempt.Escalation));
        Assert.DoesNotContain(EffectKind.Refund, Queued(attempt.OutTradeNo));
    }

    [Fact]
    public void AFullRefundMadeOutsideGroupPayFreesThePaidSlotOfAnOpenGroup()
    {
        var attempt = OpenWithFriendPaying();
        _rules.ApplyPayment(Notice(attempt, Now));
        _state.Outbox.Clear();

        Assert.True(_rules.ApplyRefund(new RefundNotice(attempt.OutTradeNo, "50300099", "5030099", attempt.AmountFen, RefundState.Succeeded)));

        Assert.Equal((SlotStatus.Free, (string?)null), (_state.Slots[1].Status, _state.Slots[1].PaidAttempt));
        Assert.Equal((RefundProgress.Succeeded, false), (attempt.Refund, attempt.Applied));
        Assert.Equal([EffectKind.ReverseReward], Queued(attempt.OutTradeNo));
        Assert.Equal(1L, Counted(Counter.PaymentsRefunded));
    }

    [Fact]
    public void AnAnomalyIsRecordedAndReportedOnce()
    {
        var attempt = OpenWithFriendPaying();
        var notice = Notice(attempt, Now) with { TotalFeeFen = 1 };

        var reason = _rules.Anomaly(notice);

        Assert.NotNull(reason);
        Assert.True(_rules.RecordAnomaly(notice, reason));
        Assert.False(_rules.RecordAnomaly(notice, reason));
        Assert.Single(_state.Outbox, e => e.Kind == EffectKind.RaiseItem);
        Assert.Throws<NotifyRejectedException>(() => _rules.ApplyPayment(notice));
    }

    // ---- A lapsing hold waits for its attempt's last orderquery ------------------------------------------

    /// <summary>The friend's live attempt as it stands when its hold lapses: its orderquery looked at the hold's expiry
    /// (unpaid then: the payment was on its way) and set its last look at the hold plus the grace, when the hold lapses.</summary>
    private async Task<(AttemptRecord Attempt, PendingEffect Query)> LapsingWithItsLastQueryDueAsync()
    {
        var attempt = OpenWithFriendPaying();
        var query = _state.Outbox.Single(e => e.Kind == EffectKind.Reconcile && e.Subject == attempt.OutTradeNo);
        _clock.SetUtcNow(attempt.PayableUntil);
        var atExpiry = await new WeChatEffects(new FakeWeChatPay { Query = NotPaid }, _rules).ReconcileAsync(query, attempt);
        Assert.Equal(EffectResult.Waiting, atExpiry);
        Assert.Equal(attempt.PayableUntil + Grace, query.NotBefore);
        _clock.SetUtcNow(attempt.PayableUntil + Grace);
        return (attempt, query);
    }

    [Fact]
    public async Task AHoldWhoseLiveAttemptsOrderqueryIsDueIsNotReleasedBeforeItAnswers()
    {
        var (attempt, _) = await LapsingWithItsLastQueryDueAsync();

        Assert.False(_rules.ExpireHolds(Now));

        Assert.Equal((SlotStatus.Held, attempt.OutTradeNo), (_state.Slots[1].Status, _state.Slots[1].LiveAttempt));
        Assert.Equal(AttemptStatus.Live, attempt.Status);
    }

    [Fact]
    public async Task AHoldWhoseLiveAttemptHasNoOrderqueryLeftIsReleasedWhenItLapses()
    {
        var (attempt, query) = await LapsingWithItsLastQueryDueAsync();
        _state.Outbox.Remove(query);

        Assert.True(_rules.ExpireHolds(Now));

        Assert.Equal(SlotStatus.Free, _state.Slots[1].Status);
        Assert.Equal(AttemptStatus.Superseded, attempt.Status);
    }

    [Fact]
    public async Task APaymentTheLastOrderqueryFindsIsKeptByItsTimeEnd()
    {
        var (attempt, _) = await LapsingWithItsLastQueryDueAsync();
        var weChat = new FakeWeChatPay { Query = no => Paid(no, attempt.PayableUntil - TimeSpan.FromSeconds(5)) };

        await DrainAsync(weChat);

        Assert.Equal((SlotStatus.Paid, attempt.OutTradeNo), (_state.Slots[1].Status, _state.Slots[1].PaidAttempt));
        Assert.Equal((AttemptStatus.Paid, true, RefundProgress.None), (attempt.Status, attempt.Applied, attempt.Refund));
        Assert.Equal(0, weChat.Closes);
    }

    [Fact]
    public async Task AnAttemptTheLastOrderqueryFindsUnpaidIsSupersededAndItsHoldReleasedInTheSameDrain()
    {
        var (attempt, _) = await LapsingWithItsLastQueryDueAsync();
        var weChat = new FakeWeChatPay { Query = no => NotPaid(no) };

        await DrainAsync(weChat);

        Assert.Equal((SlotStatus.Free, (string?)null), (_state.Slots[1].Status, _state.Slots[1].LiveAttempt));
        Assert.Equal(AttemptStatus.Closed, attempt.Status); // closeorder ran in the next pass
        Assert.Equal(1, weChat.Closes);
        Assert.Contains(_state.Outbox, e => e.Kind == EffectKind.ReleaseStock && e.Subject == $"{GroupId}/1/1");
    }

    [Fact]
    public async Task WhileTheOrderqueryFailsTheHoldStaysUntilTheDeadlineReleasesIt()
    {
        var (attempt, query) = await LapsingWithItsLastQueryDueAsync();
        var weChat = new FakeWeChatPay { Query = _ => WeChatPayResult<OrderQueryResult>.Failure(new WeChatPayError(WeChatPayErrorKind.Business, WeChatPayErrorCode.SystemError, "SYSTEMERROR", "busy")) };

        await DrainAsync(weChat);

        Assert.Equal(SlotStatus.Held, _state.Slots[1].Status);
        Assert.Equal(1, query.Failures);

        _clock.SetUtcNow(_state.Deadline!.Value + Grace);
        Assert.True(_rules.CloseAtDeadline(Now));
        Assert.Equal((SlotStatus.Free, AttemptStatus.Superseded), (_state.Slots[1].Status, attempt.Status));
        Assert.DoesNotContain(EffectKind.Reconcile, Queued(attempt.OutTradeNo));
    }

    /// <summary>One drain as the grain runs it: time first, then the due effects (orderquery and closeorder through
    /// <see cref="WeChatEffects"/>, the rest taken as done), with the lapsed holds released after each pass.</summary>
    private async Task DrainAsync(FakeWeChatPay weChat)
    {
        _rules.ExpireHolds(Now);
        _rules.CloseAtDeadline(Now);
        var runner = new OutboxRunner<PendingEffect>(new OutboxLimits(16, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30)), _clock);
        await runner.DrainAsync(_state.Outbox, new WeChatOnlyHandler(_rules, new WeChatEffects(weChat, _rules)), () => _rules.ExpireHolds(Now));
    }

    private sealed class WeChatOnlyHandler(GroupRules rules, WeChatEffects weChat) : IOutboxHandler<PendingEffect>
    {
        public Task<EffectResult> RunAsync(PendingEffect effect) => effect.Kind switch
        {
            EffectKind.Reconcile => weChat.ReconcileAsync(effect, rules.State.Attempts[effect.Subject]),
            EffectKind.CloseOrder => weChat.CloseAsync(rules.State.Attempts[effect.Subject]),
            // Left in the outbox, to be seen by the test.
            EffectKind.ReleaseStock => Task.FromResult(EffectResult.Waiting),
            _ => Task.FromResult(EffectResult.Done),
        };

        public bool ChangesState(PendingEffect effect) => true;

        public bool Escalate(PendingEffect effect, string reason, DateTimeOffset now) => rules.RaiseFailingEffect(effect, reason, now);

        public void Settled(PendingEffect effect, DateTimeOffset now)
        {
        }

        public void Failed(PendingEffect effect, string reason)
        {
        }
    }

    private static WeChatPayResult<OrderQueryResult> Paid(string outTradeNo, DateTimeOffset timeEnd) =>
        WeChatPayResult<OrderQueryResult>.Success(new OrderQueryResult(TradeState.Success, null, outTradeNo, "4200000009", 990, 990, Friend, timeEnd, GroupId));

    private static WeChatPayResult<OrderQueryResult> NotPaid(string outTradeNo) =>
        WeChatPayResult<OrderQueryResult>.Success(new OrderQueryResult(TradeState.NotPay, null, outTradeNo, null, null, null, null, null, GroupId));

    /// <summary>WeChat Pay's orderquery and closeorder as a test sets them; nothing else is called by these rules.</summary>
    private sealed class FakeWeChatPay : IWeChatPayClient
    {
        public required Func<string, WeChatPayResult<OrderQueryResult>> Query { get; init; }

        public int Closes { get; private set; }

        public Task<WeChatPayResult<OrderQueryResult>> OrderQueryAsync(string outTradeNo, CancellationToken cancellationToken = default) =>
            Task.FromResult(Query(outTradeNo));

        public Task<WeChatPayResult<CloseOrderResult>> CloseOrderAsync(string outTradeNo, CancellationToken cancellationToken = default)
        {
            Closes++;
            return Task.FromResult(WeChatPayResult<CloseOrderResult>.Success(new CloseOrderResult(outTradeNo)));
        }

        public Task<WeChatPayResult<UnifiedOrderResult>> UnifiedOrderAsync(UnifiedOrderRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<WeChatPayResult<RefundResult>> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<WeChatPayResult<RefundQueryResult>> RefundQueryAsync(RefundQueryRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<WeChatPayResult<TradeBill>> DownloadBillAsync(DateOnly billDate, TradeBillType type = TradeBillType.All, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public JsapiPayParameters CreateJsapiParameters(string prepayId) => throw new NotSupportedException();
    }
}

public sealed class MemberTagsTests
{
    [Theory]
    [InlineData("o-sandbox-alice", "sandbox:alice")]
    [InlineData("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "eS6o")]
    [InlineData("abcd", null)]
    [InlineData("o-sandbox-", null)]
    [InlineData(null, null)]
    public void NamesAMemberWithoutTheirOpenid(string? openid, string? tag) => Assert.Equal(tag, MemberTags.Of(openid));
}
