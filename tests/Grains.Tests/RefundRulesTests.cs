using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Client;

namespace GroupPay.Grains.Tests;

public sealed class RefundRulesTests
{
    [Theory]
    [InlineData(WeChatPayErrorCode.SystemError)]
    [InlineData(WeChatPayErrorCode.BizErrNeedRetry)]
    [InlineData(WeChatPayErrorCode.InvalidReqTooMuch)]
    [InlineData(WeChatPayErrorCode.FrequencyLimited)]
    [InlineData(WeChatPayErrorCode.Timeout)]
    [InlineData(WeChatPayErrorCode.HttpError)]
    [InlineData(WeChatPayErrorCode.InvalidSignature)]
    public void RetriesWhatWeChatSaysIsSafeToSendAgainUnderTheSameNumber(WeChatPayErrorCode code)
    {
        Assert.Equal(RefundStep.RetrySameNumber, RefundRules.AfterRefundError(code));
        Assert.True(RefundRules.MayRetry(code, failedTries: 7, maxTries: 8));
        Assert.False(RefundRules.MayRetry(code, failedTries: 8, maxTries: 8));
    }

    [Theory]
    [InlineData(WeChatPayErrorCode.NotEnough)]
    [InlineData(WeChatPayErrorCode.UserAccountAbnormal)]
    [InlineData(WeChatPayErrorCode.TradeOverdue)]
    [InlineData(WeChatPayErrorCode.Error)]
    [InlineData(WeChatPayErrorCode.OrderNotExist)]
    [InlineData(WeChatPayErrorCode.ParamError)]
    [InlineData(WeChatPayErrorCode.Unknown)]
    public void EscalatesPermanentRefusalsAtOnce(WeChatPayErrorCode code)
    {
        Assert.Equal(RefundStep.Escalate, RefundRules.AfterRefundError(code));
        Assert.False(RefundRules.MayRetry(code, failedTries: 1, maxTries: 8));
    }

    [Fact]
    public void AClosedRefundTakesTheNextNumberUntilTheBoundAndChangeNeedsAPerson()
    {
        Assert.Equal(RefundStep.NextNumber, RefundRules.AfterRefundState(RefundState.Closed));
        Assert.Equal(RefundStep.Escalate, RefundRules.AfterRefundState(RefundState.Abnormal));
        Assert.Equal(RefundStep.RetrySameNumber, RefundRules.AfterRefundState(RefundState.Processing));
        Assert.True(RefundRules.MayUseNextNumber(sequence: 2, maxNumbers: 3));
        Assert.False(RefundRules.MayUseNextNumber(sequence: 3, maxNumbers: 3));
    }

    [Fact]
    public void RecognisesEveryRefundNumberGroupPayIssuesAndNoOther()
    {
        const string payment = "g0123456789abP3";
        Assert.Equal("g0123456789abP3R1", TradeNumbers.OutRefundNo(payment, 1));
        Assert.Equal("g0123456789abP3R", TradeNumbers.OutRefundNo(payment, 0));
        Assert.Equal(1, TradeNumbers.RefundSequenceOf(payment, "g0123456789abP3R1"));
        Assert.Equal(12, TradeNumbers.RefundSequenceOf(payment, "g0123456789abP3R12"));
        Assert.Equal(0, TradeNumbers.RefundSequenceOf(payment, "g0123456789abP3R"));
        Assert.Null(TradeNumbers.RefundSequenceOf(payment, "g0123456789abP3R01"));
        Assert.Null(TradeNumbers.RefundSequenceOf(payment, "g0123456789abP33R1"));
        Assert.Null(TradeNumbers.RefundSequenceOf(payment, "50301234567890123456789"));
        Assert.Null(TradeNumbers.RefundSequenceOf(payment, "g0123456789abP3Rx"));
        Assert.Null(TradeNumbers.RefundSequenceOf(payment, null));
        // The group id is still recovered from the payment a refund belongs to.
        Assert.Equal("g0123456789ab", TradeNumbers.GroupIdOf(payment));
    }
}
