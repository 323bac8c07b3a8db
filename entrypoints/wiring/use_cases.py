"""The application layer: its services and use cases (wired the same in production and in
the unit tests' fakes), and the policies the settings give them."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from application.answer_cache import AnswerCache
from application.chat.admission import Admission
from application.chat.answer_question import AnswerQuestion
from application.chat.billing import Billing
from application.chat.condensing import Condensing
from application.chat.generation import Generation
from application.chat.history import RecentHistory
from application.chat.limits import ChatLimits
from application.chat.question import ChatPolicy
from application.chat.question_vectors import QuestionVectors
from application.chat.recording import Recording
from application.chat.retrieval import Retrieval
from application.chat.turn import AnswerSteps
from application.conversations import ExportConversations, ListConversations, ReadConversation
from application.data_rights import DerivedCopies, EraseVisitor, PurgeIdleConversations
from application.documents import DeleteDocument, GetDocument, GetDocuments, ListDocuments
from application.feedback import ListFeedback, RateAnswer
from application.ingestion.allowance import (
    IngestionAllowance,
    IngestionLimitPolicy,
    IngestionLimits,
)
from application.ingestion.policy import IngestionPolicy
from application.ingestion.processing import ProcessDocument
from application.ingestion.submission import SubmitDocument, SubmitUrl
from application.insights import UnansweredQuestions
from application.usage import SummarizeUsage
from application.widgets import (
    AuthorizeVisitor,
    CreateWidget,
    DeleteWidget,
    GetWidget,
    ListWidgets,
    UpdateWidget,
    WidgetLookup,
)
from domain.models import Plan
from domain.prompts import PromptBudget
from entrypoints.settings import Settings


class UseCaseProvider(Provider):
    scope = Scope.APP
    chat_steps = provide_all(
        QuestionVectors,
        RecentHistory,
        ChatLimits,
        Billing,
        Admission,
        AnswerCache,
        Condensing,
        Retrieval,
        Generation,
        Recording,
        AnswerSteps,
    )
    lookups = provide_all(WidgetLookup, DerivedCopies, IngestionAllowance)
    use_cases = provide_all(
        AnswerQuestion,
        SubmitDocument,
        SubmitUrl,
        ProcessDocument,
        GetDocument,
        GetDocuments,
        ListDocuments,
        DeleteDocument,
        CreateWidget,
        GetWidget,
        UpdateWidget,
        DeleteWidget,
        AuthorizeVisitor,
        SummarizeUsage,
        RateAnswer,
        ListFeedback,
        ListWidgets,
        ListConversations,
        ReadConversation,
        ExportConversations,
        UnansweredQuestions,
        EraseVisitor,
        PurgeIdleConversations,
    )


class PolicyProvider(Provider):
    scope = Scope.APP

    @provide
    def chat_policy(self, settings: Settings) -> ChatPolicy:
        return ChatPolicy(
            max_message_chars=settings.max_message_chars,
            min_score=settings.retrieval_min_score,
            min_coverage=settings.retrieval_min_coverage,
            min_sentence_score=settings.retrieval_min_sentence_score,
            refuse_unheard_of_names=settings.retrieval_refuse_unheard_of_names,
            follow_up_weight=settings.retrieval_follow_up_weight,
            conversation_page_bonus=settings.retrieval_conversation_page_bonus,
            condense_follow_ups=settings.condense_follow_ups,
            prices=settings.prices,
            budget=PromptBudget(
                history_tokens=settings.prompt_history_tokens,
                context_tokens=settings.prompt_max_tokens,
            ),
        )

    @provide
    def ingestion_policy(self, settings: Settings) -> IngestionPolicy:
        return IngestionPolicy(
            max_document_bytes=settings.max_upload_bytes,
            max_attempts=settings.job_max_attempts,
            heartbeat_seconds=settings.job_lease_seconds / 4,
            slice_seconds=settings.ingestion_slice_seconds,
        )

    @provide
    def ingestion_limits(self, settings: Settings) -> IngestionLimitPolicy:
        def limits(plan: Plan) -> IngestionLimits:
            documents = getattr(settings, f"ingestion_{plan}_documents_per_month")
            chunks = getattr(settings, f"ingestion_{plan}_chunks_per_month")
            return IngestionLimits(
                documents_per_month=documents or None, chunks_per_month=chunks or None
            )

        return IngestionLimitPolicy(by_plan={plan: limits(plan) for plan in Plan})
