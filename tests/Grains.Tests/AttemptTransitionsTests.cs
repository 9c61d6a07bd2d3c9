using GroupPay.Grains.Orders;

namespace GroupPay.Grains.Tests;

/// <summary>A payment attempt owns its transitions: the legal ones change it, the illegal ones throw and change nothing.</summary>
public sealed class AttemptTransitionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static AttemptRecord Attempt(AttemptStatus status = AttemptStatus.Creating) => new()
    {
        OutTradeNo = "g0123456789abP1",
        MemberOpenid = "member",
        PayerOpenid = "payer",
        AmountFen = 990,
        CreatedAt = T0,
        PayableUntil = T0.AddMinutes(15),
        Status = status,
    };

    private static AttemptRecord Paid(RefundProgress refund = RefundProgress.None)
    {
        var attempt = Attempt(AttemptStatus.Live);
        attempt.MarkPaid("4200001", T0.AddMinutes(1));
        attempt.Refund = refund;
        return attempt;
    }

    [Fact]
    public void ACreatingAttemptGoesLiveWithItsPrepay()
    {
        var attempt = Attempt();
        attempt.MarkLive("wx201", T0.AddMinutes(15));
        Assert.Equal(AttemptStatus.Live, attempt.Status);
        Assert.Equal("wx201", attempt.PrepayId);
        Assert.Equal(T0.AddMinutes(15), attempt.PrepayExpiresAt);
    }

    [Theory]
    [InlineData(AttemptStatus.Live)]
    [InlineData(AttemptStatus.Superseded)]
    [InlineData(AttemptStatus.Closed)]
    [InlineData(AttemptStatus.Paid)]
    public void OnlyACreatingAttemptGoesLive(AttemptStatus status)
    {
        var attempt = Attempt(status);
        Assert.Throws<InvalidOperationException>(() => attempt.MarkLive("wx201", T0));
        Assert.Equal(status, attempt.Status);
        Assert.Null(attempt.PrepayId);
    }

    [Theory]
    [InlineData(AttemptStatus.Creating)]
    [InlineData(AttemptStatus.Live)]
    [InlineData(AttemptStatus.Superseded)]
    [InlineData(AttemptStatus.Closed)]
    public void AnAttemptNotYetPaidCanBePaidEvenOnceClosedAndKeepsWhenWeChatTookIt(AttemptStatus status)
    {
        var attempt = Attempt(status);
        attempt.MarkPaid("4200001", T0.AddMinutes(3));
        Assert.Equal(AttemptStatus.Paid, attempt.Status);
        Assert.Equal("4200001", attempt.TransactionId);
        Assert.Equal(T0.AddMinutes(3), attempt.PaidAt);
    }

    [Fact]
    public void APaidAttemptIsNotPaidAgainNorGoesBackToLiveSupersededOrClosed()
    {
        var attempt = Paid();
        Assert.Throws<InvalidOperationException>(() => attempt.MarkPaid("4200002", T0.AddMinutes(2)));
        Assert.Throws<InvalidOperationException>(() => attempt.MarkLive("wx201", T0));
        Assert.Throws<InvalidOperationException>(attempt.Supersede);
        Assert.Throws<InvalidOperationException>(() => attempt.MarkClosed());
        Assert.Equal(AttemptStatus.Paid, attempt.Status);
        Assert.Equal("4200001", attempt.TransactionId);
    }

    [Theory]
    [InlineData(AttemptStatus.Creating)]
    [InlineData(AttemptStatus.Live)]
    public void APendingAttemptIsSuperseded(AttemptStatus status)
    {
        var attempt = Attempt(status);
        Assert.True(attempt.IsPending);
        attempt.Supersede();
        Assert.Equal(AttemptStatus.Superseded, attempt.Status);
        Assert.False(attempt.IsPending);
    }

    [Theory]
    [InlineData(AttemptStatus.Superseded)]
    [InlineData(AttemptStatus.Closed)]
    public void OnlyAPendingAttemptIsSuperseded(AttemptStatus status)
    {
        var attempt = Attempt(status);
        Assert.Throws<InvalidOperationException>(attempt.Supersede);
        Assert.Equal(status, attempt.Status);
    }

    [Theory]
    [InlineData(AttemptStatus.Creating)]
    [InlineData(AttemptStatus.Live)]
    [InlineData(AttemptStatus.Superseded)]
    public void AnUnpaidAttemptIsClosedAndRemembersACloseorder(AttemptStatus status)
    {
        var quietly = Attempt(status);
        quietly.MarkClosed();
        Assert.Equal(AttemptStatus.Closed, quietly.Status);
        Assert.False(quietly.ClosedAtWeChat);

        var byCloseOrder = Attempt(status);
        byCloseOrder.MarkClosed(byCloseOrder: true);
        Assert.Equal(AttemptStatus.Closed, byCloseOrder.Status);
        Assert.True(byCloseOrder.ClosedAtWeChat);
    }

    [Fact]
    public void AClosedAttemptIsNotClosedAgain()
    {
        var attempt = Attempt(AttemptStatus.Closed);
        Assert.Throws<InvalidOperationException>(() => attempt.MarkClosed(byCloseOrder: true));
        Assert.False(attempt.ClosedAtWeChat);
    }

    [Fact]
    public void OnlyAPaidAttemptPaysItsSlotAndOnlyAnAppliedOneGivesItUp()
    {
        var unpaid = Attempt(AttemptStatus.Live);
        Assert.Throws<InvalidOperationException>(unpaid.MarkApplied);
        Assert.Throws<InvalidOperationException>(unpaid.MarkUnapplied);

        var paid = Paid();
        paid.MarkApplied();
        Assert.True(paid.Applied);
        paid.MarkUnapplied();
        Assert.False(paid.Applied);
    }

    [Fact]
    public void ARefundGoesRequestedAcceptedSucceeded()
    {
        var attempt = Paid();
        attempt.RequestRefund(T0.AddMinutes(5));
        Assert.Equal((RefundProgress.Requested, 1, T0.AddMinutes(5)), (attempt.Refund, attempt.RefundSequence, attempt.RefundRequestedAt));
        Assert.Equal("g0123456789abP1R1", attempt.OutRefundNo);

        attempt.RefundFailures = 2;
        attempt.MarkRefundAccepted("5030001", T0.AddMinutes(6));
        Assert.Equal((RefundProgress.Accepted, "5030001", T0.AddMinutes(6), 0), (attempt.Refund, attempt.RefundId, attempt.RefundAcceptedAt, attempt.RefundFailures));

        attempt.MarkRefunded();
        Assert.Equal(RefundProgress.Succeeded, attempt.Refund);
    }

    [Fact]
    public void OnlyAPaidAttemptWithNoRefundYetRequestsOne()
    {
        Assert.Throws<InvalidOperationException>(() => Attempt(AttemptStatus.Live).RequestRefund(T0));
        foreach (var refund in new[] { RefundProgress.Requested, RefundProgress.Accepted, RefundProgress.Succeeded, RefundProgress.NeedsAttention })
        {
            var attempt = Paid(refund);
            Assert.Throws<InvalidOperationException>(() => attempt.RequestRefund(T0));
            Assert.Equal(refund, attempt.Refund);
        }
    }

    [Theory]
    [InlineData(RefundProgress.None)]
    [InlineData(RefundProgress.Accepted)]
    [InlineData(RefundProgress.Succeeded)]
    [InlineData(RefundProgress.NeedsAttention)]
    public void OnlyARequestedRefundIsAccepted(RefundProgress refund)
    {
        var attempt = Paid(refund);
        Assert.Throws<InvalidOperationException>(() => attempt.MarkRefundAccepted("5030001", T0));
        Assert.Equal(refund, attempt.Refund);
        Assert.Null(attempt.RefundAcceptedAt);
    }

    [Theory]
    [InlineData(RefundProgress.Requested)]
    [InlineData(RefundProgress.Accepted)]
    [InlineData(RefundProgress.NeedsAttention)]
    public void ARefundUnderWayTakesTheNextNumberWithItsFailuresReset(RefundProgress refund)
    {
        var attempt = Paid(refund);
        attempt.RefundSequence = 2;
        attempt.RefundFailures = 8;
        attempt.UseNextRefundNumber();
        Assert.Equal((RefundProgress.Requested, 3, 0), (attempt.Refund, attempt.RefundSequence, attempt.RefundFailures));
        Assert.Equal("g0123456789abP1R3", attempt.OutRefundNo);
    }

    [Fact]
    public void ANewRefundNumberIsNotDatedByTheOldOnesAcceptance()
    {
        var attempt = Paid(RefundProgress.None);
        attempt.RequestRefund(T0.AddMinutes(2));
        attempt.MarkRefundAccepted("50301", T0.AddMinutes(3));
        Assert.Equal(T0.AddMinutes(3), attempt.RefundAcceptedAt);

        attempt.UseNextRefundNumber();

        // The ledger (GroupTally.LedgerOf) dates a refund by it: R2 has none until WeChat accepts it.
        Assert.Null(attempt.RefundAcceptedAt);
        attempt.MarkRefundAccepted("50302", T0.AddDays(1));
        Assert.Equal((T0.AddDays(1), "g0123456789abP1R2"), (attempt.RefundAcceptedAt!.Value, attempt.OutRefundNo));
    }

    [Fact]
    public void ARefundOfTheFirstReleaseTakesNumberOneNext()
    {
        var attempt = Paid(RefundProgress.NeedsAttention);
        attempt.RefundSequence = 0;
        attempt.UseNextRefundNumber();
        Assert.Equal(1, attempt.RefundSequence);
    }

    [Theory]
    [InlineData(RefundProgress.None)]
    [InlineData(RefundProgress.Succeeded)]
    public void NoRefundOrASucceededOneTakesNoNewNumber(RefundProgress refund)
    {
        var attempt = Paid(refund);
        Assert.Throws<InvalidOperationException>(attempt.UseNextRefundNumber);
        Assert.Equal((refund, 0), (attempt.Refund, attempt.RefundSequence));
    }

    [Fact]
    public void OnlyAnAcceptedRefundUnknownToWeChatIsSentAgain()
    {
        var attempt = Paid(RefundProgress.Accepted);
        attempt.ResendRefund();
        Assert.Equal(RefundProgress.Requested, attempt.Refund);
        Assert.Throws<InvalidOperationException>(attempt.ResendRefund);
        Assert.Throws<InvalidOperationException>(Paid(RefundProgress.NeedsAttention).ResendRefund);
    }

    [Theory]
    [InlineData(RefundProgress.Requested)]
    [InlineData(RefundProgress.Accepted)]
    [InlineData(RefundProgress.NeedsAttention)]
    public void ARefundUnderWayCanNeedAPerson(RefundProgress refund)
    {
        var attempt = Paid(refund);
        attempt.MarkRefundNeedsAttention();
        Assert.Equal(RefundProgress.NeedsAttention, attempt.Refund);
    }

    [Theory]
    [InlineData(RefundProgress.None)]
    [InlineData(RefundProgress.Succeeded)]
    public void NoRefundOrASucceededOneNeedsNoPerson(RefundProgress refund)
    {
        var attempt = Paid(refund);
        Assert.Throws<InvalidOperationException>(attempt.MarkRefundNeedsAttention);
        Assert.Equal(refund, attempt.Refund);
    }

    [Theory]
    [InlineData(RefundProgress.None)]
    [InlineData(RefundProgress.Requested)]
    [InlineData(RefundProgress.Accepted)]
    [InlineData(RefundProgress.NeedsAttention)]
    public void APaymentIsRefundedFromAnyStateButRefunded(RefundProgress refund)
    {
        var attempt = Paid(refund);
        attempt.MarkRefunded();
        Assert.Equal(RefundProgress.Succeeded, attempt.Refund);
        Assert.Throws<InvalidOperationException>(attempt.MarkRefunded);
        Assert.Throws<InvalidOperationException>(() => Attempt(AttemptStatus.Live).MarkRefunded());
    }
}
