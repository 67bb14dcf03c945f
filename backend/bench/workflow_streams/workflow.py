"""One conversation of the Workflow Streams path: an entity workflow hosting a stream.

Signals: ``ask`` (a prompt; prompts are answered one at a time, in order) and
``finish`` (end the workflow once the prompts already received are answered).
Each prompt runs ``Runner.run_streamed``; the plugin's stock streaming activity
publishes the raw model events to :data:`TOPIC` on this workflow's stream.

Imported by the workflow sandbox: no side effects at import time.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.contrib.workflow_streams import WorkflowStream

with workflow.unsafe.imports_passed_through():
    from agents import Agent, Runner, TResponseInputItem

# The names a client uses; subscriber.py repeats them as strings so the bench
# process need not import the Agents SDK (about 1 s).
WORKFLOW_NAME = "BenchStreamedChat"
TOPIC = "model-events"
ASK_SIGNAL = "ask"
FINISH_SIGNAL = "finish"


@workflow.defn(name=WORKFLOW_NAME)
class StreamedChatWorkflow:
    @workflow.init
    def __init__(self) -> None:
        # Registers the stream's publish signal and poll update/query handlers;
        # it must be constructed here, directly in __init__.
        self._stream = WorkflowStream()
        self._prompts: list[str] = []
        self._finishing = False
        self._conversation: list[TResponseInputItem] = []

    @workflow.run
    async def run(self) -> None:
        agent = Agent(name="bench", instructions="You are a benchmark.", model="demo")
        while True:
            await workflow.wait_condition(lambda: bool(self._prompts) or self._finishing)
            if not self._prompts:
                break
            prompt = self._prompts.pop(0)
            turn_input: list[TResponseInputItem] = [
                *self._conversation,
                {"role": "user", "content": prompt},
            ]
            result = Runner.run_streamed(agent, input=turn_input)
            # The events reach the workflow only once the model activity has finished
            # (subscribers already saw them on the topic); draining them ends the run.
            async for _event in result.stream_events():
                pass
            self._conversation = result.to_input_list()
        # Release any waiting subscriber poll so the workflow ends with no handler running.
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.signal(name=ASK_SIGNAL)
    def ask(self, prompt: str) -> None:
        self._prompts.append(prompt)

    @workflow.signal(name=FINISH_SIGNAL)
    def finish(self) -> None:
        self._finishing = True
